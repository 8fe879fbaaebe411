#!/usr/bin/env python3
"""Reference values for tests/coordinator/rdp_accountant_test.cpp (the table is kept in the test).

How the table was produced: `python3 tests/coordinator/rdp_reference.py` (python3 with mpmath
1.3, Debian's python3-mpmath; nothing else). For each row (q, sigma, steps, delta) it computes the
Renyi DP of the sampled Gaussian mechanism at every order of Opacus' DEFAULT_ALPHAS, then epsilon
with the Balle et al. 2020 (Theorem 21) conversion and with the classic Mironov 2017 one, and
prints C++ initialisers for the test's table.

It is independent of the C++ code and of TF Privacy's floating-point series: at 40 significant
digits it evaluates A_alpha = E_{z ~ N(0, s^2)} [((1 - q) + q exp((2z - 1) / (2 s^2)))^alpha]
(Mironov, Talwar and Zhang 2019, Section 3) exactly for integer alpha (the binomial sum) and by
numerical quadrature (mpmath.quad) for fractional alpha; RDP = log(A_alpha) / (alpha - 1). The
script checks quadrature against the binomial sum at the integer orders before it prints.
"""
import mpmath as mp

mp.mp.dps = 40

ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def log_a_binomial(q, sigma, alpha):
    q, s2 = mp.mpf(q), mp.mpf(sigma) ** 2
    total = mp.mpf(0)
    for i in range(alpha + 1):
        total += mp.binomial(alpha, i) * q**i * (1 - q) ** (alpha - i) * mp.exp((i * i - i) / (2 * s2))
    return mp.log(total)


def log_a_quadrature(q, sigma, alpha):
    q, s, alpha = mp.mpf(q), mp.mpf(sigma), mp.mpf(alpha)
    s2 = s * s

    def integrand(z):
        ratio = (1 - q) + q * mp.exp((2 * z - 1) / (2 * s2))
        return mp.exp(-z * z / (2 * s2)) * ratio**alpha

    # The integrand's mass sits near 0 for small q and moves towards z = alpha for large alpha.
    points = sorted({-mp.inf, -20 * s, -5 * s, 0, mp.mpf(1) / 2, 1, alpha / 2, alpha, alpha + 10 * s,
                     2 * alpha + 20 * s, mp.inf})
    return mp.log(mp.quad(integrand, points) / (s * mp.sqrt(2 * mp.pi)))


def rdp(q, sigma, alpha):
    if q == 0:
        return mp.mpf(0)
    if q == 1:
        return mp.mpf(alpha) / (2 * mp.mpf(sigma) ** 2)
    if float(alpha).is_integer():
        return log_a_binomial(q, sigma, int(alpha)) / (alpha - 1)
    return log_a_quadrature(q, sigma, alpha) / (mp.mpf(alpha) - 1)


def epsilon(rdps, delta, conversion):
    best = None
    for alpha, r in zip(ORDERS, rdps):
        a, r = mp.mpf(alpha), r
        if conversion == "balle2020":
            eps = r + mp.log((a - 1) / a) - (mp.log(delta) + mp.log(a)) / (a - 1)
        else:
            eps = r + mp.log(1 / mp.mpf(delta)) / (a - 1)
        if best is None or eps < best[0]:
            best = (eps, alpha)
    return max(best[0], 0), best[1]


def self_check():
    for q, sigma in [(0.01, 1.1), (0.3, 0.8), (0.9, 2.0)]:
        for alpha in (2, 7, 30, 63):
            exact = log_a_binomial(q, sigma, alpha)
            quad = log_a_quadrature(q, sigma, alpha)
            assert abs(exact - quad) <= 1e-12 * max(1, abs(exact)), (q, sigma, alpha, exact, quad)


# (q, sigma, steps, delta). The first four rows are the TF Privacy tutorial's MNIST settings
# (N = 60000, batch 256, steps = ceil(epochs * N / batch) as in compute_dp_sgd_privacy.py).
ROWS = [
    (256 / 60000, 1.1, 14063, 1e-5),  # 60 epochs: TF Privacy publishes eps = 3.01 (classic)
    (256 / 60000, 1.3, 3516, 1e-5),   # 15 epochs: published 1.19
    (256 / 60000, 0.7, 10547, 1e-5),  # 45 epochs: published 7.10
    (256 / 60000, 1.1, 235, 1e-5),    # 1 epoch: published 1.03 (tutorial's own steps: 234)
    (0.01, 1.0, 10000, 1e-5),
    (0.01, 4.0, 1000, 1e-6),
    (0.05, 0.7, 100, 1e-5),
    (0.05, 2.0, 10000, 1e-6),
    (0.1, 1.5, 1000, 1e-5),
    (0.1, 0.8, 10, 1e-6),
    (0.5, 3.0, 100, 1e-5),
    (0.5, 1.0, 1, 1e-6),
    (1.0, 2.0, 50, 1e-5),
    (1.0, 4.0, 10000, 1e-6),
]


def main():
    self_check()
    for q, sigma, steps, delta in ROWS:
        rdps = [rdp(q, sigma, alpha) * steps for alpha in ORDERS]
        balle, balle_order = epsilon(rdps, delta, "balle2020")
        classic, classic_order = epsilon(rdps, delta, "mironov2017")
        print(f"    {{{q!r}, {sigma!r}, {steps}, {delta!r}, {mp.nstr(balle, 10)}, {balle_order!r}, "
              f"{mp.nstr(classic, 10)}, {classic_order!r}}},")


if __name__ == "__main__":
    main()
