//! The statistics behind every interval and every "significant": the
//! normal and Student t distributions (CDF and quantile), Wilson intervals,
//! the NPS margin of error, t intervals on a mean, and the tests trends use
//! to compare two periods. Pure functions of counts, so every number can be
//! recomputed from raw events.
//!
//! The t distribution is computed, not tabled: its CDF through the
//! regularised incomplete beta function (continued fraction, Lentz's
//! method) and its quantile by bisection on that CDF, accurate to about
//! 1e-10 for any degrees of freedom (a table would need interpolation
//! exactly where samples are small and it matters most).

/// The two-sided 95 % normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Fewer answers than this and a number is flagged `small_sample`; two
/// periods are only called significantly different when both have at least
/// this many.
pub const SMALL_SAMPLE: u64 = 30;

/// Significance level of a change between two periods.
pub const ALPHA: f64 = 0.05;

/// Standard normal CDF, Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function, to about 15 significant digits: W. J.
/// Cody's rational approximations (Math. Comp. 23, 1969), in his three
/// ranges, with exp(−x²) split as he does so the tail keeps its digits.
fn erfc(x: f64) -> f64 {
    const A: [f64; 5] = [
        3.161_123_743_870_565_6,
        1.138_641_541_510_501_6e2,
        3.774_852_376_853_02e2,
        3.209_377_589_138_469_5e3,
        1.857_777_061_846_031_5e-1,
    ];
    const B: [f64; 4] = [
        2.360_129_095_234_412e1,
        2.440_246_379_344_441_7e2,
        1.282_616_526_077_372_3e3,
        2.844_236_833_439_171e3,
    ];
    const C: [f64; 9] = [
        5.641_884_969_886_701e-1,
        8.883_149_794_388_376,
        6.611_919_063_714_163e1,
        2.986_351_381_974_001e2,
        8.819_522_212_417_69e2,
        1.712_047_612_634_070_6e3,
        2.051_078_377_826_071_5e3,
        1.230_339_354_797_997_2e3,
        2.153_115_354_744_038_5e-8,
    ];
    const D: [f64; 8] = [
        1.574_492_611_070_983_5e1,
        1.176_939_508_913_125e2,
        5.371_811_018_620_099e2,
        1.621_389_574_566_690_2e3,
        3.290_799_235_733_459_6e3,
        4.362_619_090_143_247e3,
        3.439_367_674_143_721_6e3,
        1.230_339_354_803_749_4e3,
    ];
    const P: [f64; 6] = [
        3.053_266_349_612_323_4e-1,
        3.603_448_999_498_044_4e-1,
        1.257_817_261_112_292_5e-1,
        1.608_378_514_874_228e-2,
        6.587_491_615_298_378e-4,
        1.631_538_713_730_209_8e-2,
    ];
    const Q: [f64; 5] = [
        2.568_520_192_289_822,
        1.872_952_849_923_467_3,
        5.279_051_029_514_284e-1,
        6.051_834_131_244_132e-2,
        2.335_204_976_268_691_8e-3,
    ];
    let y = x.abs();
    if y <= 0.468_75 {
        let z = y * y;
        let mut num = A[4] * z;
        let mut den = z;
        for i in 0..3 {
            num = (num + A[i]) * z;
            den = (den + B[i]) * z;
        }
        return 1.0 - x * (num + A[3]) / (den + B[3]);
    }
    let r = if y <= 4.0 {
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        (num + C[7]) / (den + D[7])
    } else if y < 27.0 {
        let z = 1.0 / (y * y);
        let mut num = P[5] * z;
        let mut den = z;
        for i in 0..4 {
            num = (num + P[i]) * z;
            den = (den + Q[i]) * z;
        }
        let r = z * (num + P[4]) / (den + Q[4]);
        (1.0 / std::f64::consts::PI.sqrt() - r) / y
    } else {
        0.0
    };
    // exp(−y²) as exp(−s²) exp(−(y − s)(y + s)), s = y rounded down to 1/16.
    let s = (y * 16.0).trunc() / 16.0;
    let tail = (-s * s).exp() * (-(y - s) * (y + s)).exp() * r;
    if x < 0.0 { 2.0 - tail } else { tail }
}

/// The standard normal quantile, Φ⁻¹(p), by bisection on [`normal_cdf`].
pub fn normal_quantile(p: f64) -> f64 {
    bisect(p, normal_cdf)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms; about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2);
    // beyond, use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Student t CDF with `df` (> 0, not necessarily whole) degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if df > 1e7 {
        return normal_cdf(t);
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Student t quantile: the t with `t_cdf(t, df) = p`.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    bisect(p, |t| t_cdf(t, df))
}

/// The x where an increasing `cdf` reaches `p` (0 < p < 1), by bisection.
fn bisect(p: f64, cdf: impl Fn(f64) -> f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let (mut lo, mut hi) = (-1.0, 1.0);
    while cdf(lo) > p {
        lo *= 2.0;
    }
    while cdf(hi) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.abs().max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p(z: f64) -> f64 {
    (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0)
}

/// A score with its 95 % interval, on the score's own scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub score: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// NPS and its 95 % margin of error, both on −100…100:
/// NPS = 100 (p − d); MoE = 196 √((p + d − (p − d)²) / n), p and d shares.
pub fn nps(promoters: u64, detractors: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (p, d) = (promoters as f64 / n as f64, detractors as f64 / n as f64);
    // 196, not 100 z: the contract's formula, which exports are checked against.
    (
        100.0 * (p - d),
        196.0 * (nps_variance(p, d) / n as f64).sqrt(),
    )
}

/// The variance of one answer's promoter (+1) / detractor (−1) score.
fn nps_variance(p: f64, d: f64) -> f64 {
    (p + d - (p - d).powi(2)).max(0.0)
}

/// 95 % Wilson score interval of `k` successes in `n`, as shares (0–1).
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = Z95;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    // At 0 or n successes the bound is exactly 0 or 1; say so, not 1 − ε.
    let low = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if p >= 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// Mean, sample variance and n of a histogram (score → count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    /// Sample variance (n − 1 in the denominator); 0 when n < 2.
    pub variance: f64,
}

impl Moments {
    pub fn of(histogram: impl IntoIterator<Item = (i64, u64)> + Clone) -> Option<Moments> {
        let n: u64 = histogram.clone().into_iter().map(|(_, c)| c).sum();
        if n == 0 {
            return None;
        }
        let sum: f64 = histogram
            .clone()
            .into_iter()
            .map(|(s, c)| s as f64 * c as f64)
            .sum();
        let mean = sum / n as f64;
        let squares: f64 = histogram
            .into_iter()
            .map(|(s, c)| c as f64 * (s as f64 - mean).powi(2))
            .sum();
        let variance = if n > 1 { squares / (n - 1) as f64 } else { 0.0 };
        Some(Moments { n, mean, variance })
    }

    /// The 95 % t interval of the mean, within the scale `[lo, hi]`; `None`
    /// for fewer than two answers.
    pub fn interval(&self, scale: (i64, i64)) -> Option<(f64, f64)> {
        if self.n < 2 {
            return None;
        }
        let t = t_quantile(0.975, (self.n - 1) as f64);
        let half = t * (self.variance / self.n as f64).sqrt();
        Some((
            (self.mean - half).max(scale.0 as f64),
            (self.mean + half).min(scale.1 as f64),
        ))
    }
}

/// Two-proportion z test (pooled) of `k1/n1` against `k2/n2`: the
/// two-sided p-value.
pub fn two_proportion_p(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (a, b) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    Some(if se > 0.0 {
        normal_p((b - a) / se)
    } else {
        // Everyone answered alike in both periods: no difference at all.
        1.0
    })
}

/// NPS difference over its combined standard error: the two-sided p-value
/// of the change from `(p1, d1, n1)` to `(p2, d2, n2)` (promoters,
/// detractors, answers).
pub fn nps_change_p(a: (u64, u64, u64), b: (u64, u64, u64)) -> Option<f64> {
    let share = |(p, d, n): (u64, u64, u64)| {
        (n > 0).then(|| (p as f64 / n as f64, d as f64 / n as f64, n as f64))
    };
    let ((p1, d1, n1), (p2, d2, n2)) = (share(a)?, share(b)?);
    let se = (nps_variance(p1, d1) / n1 + nps_variance(p2, d2) / n2).sqrt();
    let delta = (p2 - d2) - (p1 - d1);
    Some(separated(delta, se))
}

/// Welch's t test of two means: the two-sided p-value, `None` unless both
/// have at least two answers.
pub fn welch_p(a: &Moments, b: &Moments) -> Option<f64> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (va, vb) = (a.variance / a.n as f64, b.variance / b.n as f64);
    let se = (va + vb).sqrt();
    let delta = b.mean - a.mean;
    if se == 0.0 {
        return Some(separated(delta, se));
    }
    let df = (va + vb).powi(2) / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let t = delta / se;
    Some((2.0 * (1.0 - t_cdf(t.abs(), df))).clamp(0.0, 1.0))
}

/// The p-value of a difference over its standard error; with no spread at
/// all, any difference is certain and none is no evidence.
fn separated(delta: f64, se: f64) -> f64 {
    if se > 0.0 {
        normal_p(delta / se)
    } else if delta.abs() > 1e-12 {
        0.0
    } else {
        1.0
    }
}

/// Whether a change with this p-value between periods of `n1` and `n2`
/// answers is significant: p < 0.05 and both samples large enough.
pub fn significant(p: Option<f64>, n1: u64, n2: u64) -> bool {
    p.is_some_and(|p| p < ALPHA) && n1 >= SMALL_SAMPLE && n2 >= SMALL_SAMPLE
}

/// Rounds to `places` decimals.
pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} is not {b} (± {tol})");
    }

    #[test]
    fn normal_distribution() {
        close(normal_cdf(0.0), 0.5, 1e-15);
        close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-12);
        close(normal_cdf(-1.0), 0.158_655_253_931_457_05, 1e-14);
        close(normal_cdf(0.3), 0.617_911_422_188_953, 1e-14);
        close(normal_cdf(2.5), 0.993_790_334_674_223_6, 1e-14);
        close(normal_cdf(-5.0), 2.866_515_718_791_939e-7, 1e-19);
        close(normal_cdf(-8.0), 6.220_960_574_271_784e-16, 1e-27);
        close(normal_quantile(0.975), Z95, 1e-9);
        close(normal_quantile(0.05), -1.644_853_626_951_472_2, 1e-9);
        close(normal_p(1.959_963_984_540_054), 0.05, 1e-12);
    }

    #[test]
    fn t_distribution_against_tables() {
        // Two-sided 95 % critical values, from the published tables.
        for (df, t) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (3.0, 3.182_446_305),
            (4.0, 2.776_445_105),
            (5.0, 2.570_581_836),
            (9.0, 2.262_157_163),
            (10.0, 2.228_138_852),
            (29.0, 2.045_229_642),
            (30.0, 2.042_272_456),
            (100.0, 1.983_971_519),
            (1000.0, 1.962_339_081),
        ] {
            close(t_quantile(0.975, df), t, 1e-8);
            close(t_quantile(0.025, df), -t, 1e-8);
        }
        // One-sided 99 % and a fractional df (as Welch's test gives).
        close(t_quantile(0.99, 7.0), 2.997_951_566, 1e-8);
        close(t_cdf(2.0, 5.0), 0.949_030_260_585_070_3, 1e-12);
        close(t_cdf(-1.5, 2.5), 0.123_918_226_543_148_13, 1e-13);
        close(t_cdf(0.0, 3.0), 0.5, 1e-15);
        // Many degrees of freedom: the normal.
        close(t_cdf(1.96, 1e9), normal_cdf(1.96), 1e-12);
        close(t_quantile(0.975, 1e6), Z95, 1e-5);
    }

    #[test]
    fn nps_and_margin() {
        let r = |(a, b): (f64, f64)| (round(a, 2), round(b, 2));
        // 2 promoters, 1 passive, 1 detractor of 4: p = .5, d = .25
        // NPS = 25; MoE = 196 * sqrt((.75 - .0625) / 4) = 196 * 0.41458 = 81.26
        assert_eq!(r(nps(2, 1, 4)), (25.0, 81.26));
        assert_eq!(r(nps(1, 0, 1)), (100.0, 0.0));
        assert_eq!(r(nps(0, 3, 3)), (-100.0, 0.0));
        assert_eq!(r(nps(0, 0, 0)), (0.0, 0.0));
        assert_eq!(r(nps(50, 30, 100)), (20.0, 17.09));
    }

    #[test]
    fn wilson_interval() {
        // 8 of 10: the textbook interval is 49.02 % – 94.33 %
        let (lo, hi) = wilson(8, 10);
        assert_eq!((round(100.0 * lo, 2), round(100.0 * hi, 2)), (49.02, 94.33));
        assert_eq!(wilson(0, 10).0, 0.0);
        assert_eq!(wilson(10, 10).1, 1.0);
    }

    #[test]
    fn t_interval_of_a_mean() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s² = 32/7; t(7) = 2.364624
        let m = Moments::of([(2, 1), (4, 3), (5, 2), (7, 1), (9, 1)]).unwrap();
        assert_eq!((m.n, m.mean), (8, 5.0));
        close(m.variance, 32.0 / 7.0, 1e-12);
        let (lo, hi) = m.interval((0, 10)).unwrap();
        let half = 2.364_624_251_6 * (32.0f64 / 7.0 / 8.0).sqrt();
        close(lo, 5.0 - half, 1e-8);
        close(hi, 5.0 + half, 1e-8);
        // Clipped to the scale; none from one answer.
        assert_eq!(m.interval((4, 6)).unwrap(), (4.0, 6.0));
        assert!(Moments::of([(3, 1)]).unwrap().interval((1, 7)).is_none());
        assert!(Moments::of(Vec::<(i64, u64)>::new()).is_none());
    }

    #[test]
    fn tests_between_periods() {
        // 45/60 vs 30/60: pooled .625, se = .08839, z = 2.828, p = .00468
        close(
            two_proportion_p(45, 60, 30, 60).unwrap(),
            0.004_677_734_981,
            1e-9,
        );
        assert_eq!(two_proportion_p(10, 10, 5, 5), Some(1.0));
        assert_eq!(two_proportion_p(1, 0, 5, 5), None);
        // NPS 40 (50 p, 10 d of 100) vs 10 (30 p, 20 d of 100):
        // var1 = .6 - .16 = .44, var2 = .5 - .01 = .49; se = sqrt(.0093) = .096437
        // z = -.3 / .096437 = -3.1109, p = .001866
        close(
            nps_change_p((50, 10, 100), (30, 20, 100)).unwrap(),
            0.001_865_464_629_070_9,
            1e-12,
        );
        assert_eq!(nps_change_p((30, 0, 30), (30, 0, 30)), Some(1.0));
        assert_eq!(nps_change_p((30, 0, 30), (0, 30, 30)), Some(0.0));
        // Welch: a = {1,2,3,4,5} (mean 3, s² 2.5), b = {3,4,5,6,7,7} (mean 5.333, s² 2.6667)
        // se² = .5 + .44444 = .94444, t = 2.4010, df = .94444² / (.25/4 + .19753/5) = 8.7419
        let a = Moments::of([(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]).unwrap();
        let b = Moments::of([(3, 1), (4, 1), (5, 1), (6, 1), (7, 2)]).unwrap();
        let p = welch_p(&a, &b).unwrap();
        let t = (b.mean - a.mean) / (0.5f64 + b.variance / 6.0).sqrt();
        let df = (0.5 + b.variance / 6.0).powi(2) / (0.25 / 4.0 + (b.variance / 6.0).powi(2) / 5.0);
        close(p, 2.0 * (1.0 - t_cdf(t, df)), 1e-15);
        close(p, 0.040_6, 1e-3);
        assert_eq!(welch_p(&a, &Moments::of([(3, 1)]).unwrap()), None);
        assert!(significant(Some(0.01), 30, 31));
        assert!(!significant(Some(0.01), 29, 300));
        assert!(!significant(Some(0.05), 100, 100));
        assert!(!significant(None, 100, 100));
    }
}
