#include "local_share.hpp"

#include "fl/models/partition.hpp"

namespace fl::worker {

Result<LocalShare> select_local_share(const WorkerOptions& o) {
  FL_ASSIGN_OR_RETURN(auto spec, models::parse_partition(o.partition));
  spec.seed = o.partition_seed;
  LocalShare share;
  FL_ASSIGN_OR_RETURN(share.full, models::load_dataset(o.data, models::Split::kTrain));
  const auto labels = models::labels_of(share.full);
  FL_ASSIGN_OR_RETURN(share.indices,
                      models::worker_share(labels, share.full.num_classes, spec, o.part_index,
                                           o.num_parts, o.max_samples));
  return share;
}

}  // namespace fl::worker
