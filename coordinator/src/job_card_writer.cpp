#include "fl/coordinator/job_card_writer.hpp"


#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/job_config.hpp"
#include "fl/coordinator/job_terms.hpp"
#include "fl/coordinator/model_host.hpp"

namespace fl::coordinator {

namespace {

Status check_dialable(const std::string& endpoint) {
  FL_RETURN_IF_ERROR(common::check_endpoint(endpoint));
  const bool any_host = endpoint.find("://*:") != std::string::npos ||
                        endpoint.find("://0.0.0.0:") != std::string::npos;
  if (any_host || endpoint.ends_with(":0")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "network.bind " + endpoint +
                          " is not an address workers can dial; pass --endpoint "
                          "tcp://HOST:PORT with the host name or address workers use");
  }
  return ok_status();
}

}  // namespace

Result<common::JobCard> write_job_card(const std::filesystem::path& config_path,
                                       const std::string& endpoint,
                                       const std::filesystem::path& out) {
  FL_ASSIGN_OR_RETURN(auto config, load_job_config(config_path));
  common::JobCard card;
  card.endpoint = endpoint.empty() ? config.bind : endpoint;
  FL_RETURN_IF_ERROR(check_dialable(card.endpoint));
  FL_ASSIGN_OR_RETURN(auto coordinator, load_or_create_key(config.coordinator_key));
  FL_ASSIGN_OR_RETURN(auto researcher, load_or_create_key(config.researcher_key));
  FL_ASSIGN_OR_RETURN(auto model,
                      ModelHost::create(config.model, config.seed, config.data, 1, "cpu"));
  card.coordinator_key = coordinator.public_key;
  card.job_id = config.job_id;
  card.model_digest = common::digest_of(model->initial_parameters());
  FL_ASSIGN_OR_RETURN(auto terms, make_job_terms(config, model->layout(), card.model_digest,
                                                 coordinator.public_key, researcher.public_key));
  card.terms_digest = common::terms_digest(terms);
  common::sign_job_card(card, researcher);
  FL_RETURN_IF_ERROR(common::save_job_card(out, card));
  return card;
}

}  // namespace fl::coordinator
