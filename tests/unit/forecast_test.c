/* Unit tests of apps/indicators/forecast: Holt's recursion and fit, intervals, the
 * drift fallback, the backtest, input errors. Expected values are worked out by hand
 * in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "apps/indicators/forecast.h"

/* |got - want| <= tol, reporting both values (cmocka's float assert works in float). */
#define assert_near(got, want, tol)                                                                                    \
    do {                                                                                                               \
        double got_ = (got), want_ = (want);                                                                           \
        if (!(fabs(got_ - want_) <= (tol)))                                                                            \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #got, got_, want_, (double)(tol));                   \
    } while (0)

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A noisy series (the first 15 monthly values of the classic airline passengers data). */
static const double noisy[] = {112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141};

static kho_forecast_t forecast_ok(const double *y, size_t n, size_t horizon)
{
    kho_forecast_t f;
    kho_err_t err = {0};
    if (kho_forecast(y, n, horizon, &f, &err) != 0)
        fail_msg("kho_forecast(n=%zu, horizon=%zu): %s", n, horizon, err.msg);
    return f;
}

/* y = 5 + 2t, t = 0..7: 5 7 9 11 13 15 17 19.
 * l_0 = 5, b_0 = 7 - 5 = 2; every prediction l + b is the next value, so every e_t = 0
 * whatever alpha and beta* are: l_7 = 19, b_7 = 2, SSE = 0, sigma = 0.
 * Forecast h: 19 + 2h = 21, 23, 25, 27, 29.
 * Backtest: fit on 5 7 9 11 13 -> level 13, trend 2 -> 15 17 19 = the held-out values -> MAPE 0. */
static void test_exact_line(void **state)
{
    (void)state;
    double y[8];
    for (int t = 0; t < 8; t++)
        y[t] = 5 + 2 * t;
    kho_forecast_t f = forecast_ok(y, 8, 5);
    assert_string_equal(f.method, "holt");
    assert_int_equal(f.horizon, 5);
    assert_near(f.level, 19, 1e-12);
    assert_near(f.trend, 2, 1e-12);
    assert_near(f.sigma, 0, 0);
    for (size_t h = 1; h <= 5; h++) {
        const kho_fc_point_t *p = &f.points[h - 1];
        assert_near(p->value, 19 + 2.0 * (double)h, 1e-12);
        assert_near(p->lo80, p->value, 0);
        assert_near(p->hi80, p->value, 0);
        assert_near(p->lo95, p->value, 0);
        assert_near(p->hi95, p->value, 0);
    }
    assert_int_equal(f.backtest_n, 3);
    assert_near(f.mape, 0, 1e-12);
    assert_true(f.alpha >= 0.01 && f.alpha <= 1);
    assert_true(f.beta_star >= 0.01 && f.beta_star <= 1);
    assert_near(f.beta, f.alpha * f.beta_star, 0);
}

/* y = 1 3 4 8, l_0 = 1, b_0 = 3 - 1 = 2.
 *
 * alpha = 0.5, beta* = 0.5 (alpha beta* = 0.25):
 *   t=1: pred 1+2 = 3,     e =  0,    l = 3,              b = 2
 *   t=2: pred 3+2 = 5,     e = -1,    l = 5 + 0.5(-1) = 4.5, b = 2 + 0.25(-1) = 1.75
 *   t=3: pred 4.5+1.75 = 6.25, e = 8 - 6.25 = 1.75
 *   SSE = 0 + 1 + 1.75^2 = 1 + 3.0625 = 4.0625
 *
 * alpha = 0.2, beta* = 0.5 (alpha beta* = 0.1):
 *   t=1: e = 0, l = 3, b = 2
 *   t=2: pred 5, e = -1, l = 5 - 0.2 = 4.8, b = 2 - 0.1 = 1.9
 *   t=3: pred 6.7, e = 1.3
 *   SSE = 1 + 1.69 = 2.69
 *
 * alpha = 1, beta* = 1: l_t = y_t, b_t = y_t - y_{t-1}, so pred_t = y_{t-1} + (y_{t-1} - y_{t-2}):
 *   t=2: pred 3 + 2 = 5, e = -1;  t=3: pred 4 + 1 = 5, e = 3;  SSE = 1 + 9 = 10 */
static void test_holt_sse_fixed_params(void **state)
{
    (void)state;
    const double y[] = {1, 3, 4, 8};
    assert_near(kho_forecast_holt_sse(y, 4, 0.5, 0.5), 4.0625, 1e-12);
    assert_near(kho_forecast_holt_sse(y, 4, 0.2, 0.5), 2.69, 1e-12);
    assert_near(kho_forecast_holt_sse(y, 4, 1, 1), 10, 1e-12);
    assert_near(kho_forecast_holt_sse(y, 2, 0.5, 0.5), 0, 0); /* the one error, e_1, is 0 */
    assert_true(isnan(kho_forecast_holt_sse(y, 1, 0.5, 0.5)));
}

/* sigma = 2, alpha = 0.5, beta* = 0.4 -> alpha beta* = 0.2, c_j = 0.5 + 0.2 j: c_1 = 0.7, c_2 = 0.9.
 *   h=1: var = 4 * 1                       = 4    -> se = 2
 *   h=2: var = 4 * (1 + 0.49)              = 5.96 -> se = sqrt(5.96) = 2.4413111231467406
 *   h=3: var = 4 * (1 + 0.49 + 0.81) = 4 * 2.3 = 9.2 -> se = sqrt(9.2) = 3.03315017762062
 * Half-widths z * se:
 *   h=1: 80% 1.2815515655446004 * 2 = 2.5631031310892008   95% 1.959963984540054 * 2 = 3.919927969080108
 *   h=2: 80% 3.128666091850152                              95% 4.78488187642464
 *   h=3: 80% 3.887138358661588                              95% 5.944865107837683 */
static void test_interval_formula(void **state)
{
    (void)state;
    const double se[] = {2, 2.4413111231467406, 3.03315017762062};
    const double w80[] = {2.5631031310892008, 3.128666091850152, 3.887138358661588};
    const double w95[] = {3.919927969080108, 4.78488187642464, 5.944865107837683};
    for (size_t h = 1; h <= 3; h++) {
        double s = kho_forecast_holt_se(2, 0.5, 0.4, h);
        assert_near(s, se[h - 1], 1e-12);
        assert_near(KHO_FORECAST_Z80 * s, w80[h - 1], 1e-12);
        assert_near(KHO_FORECAST_Z95 * s, w95[h - 1], 1e-12);
    }
    /* kho_forecast() builds its intervals from the same formula with its fitted values */
    kho_forecast_t f = forecast_ok(noisy, N_OF(noisy), 3);
    for (size_t h = 1; h <= 3; h++) {
        const kho_fc_point_t *p = &f.points[h - 1];
        double s = kho_forecast_holt_se(f.sigma, f.alpha, f.beta_star, h);
        assert_near(p->hi80 - p->value, KHO_FORECAST_Z80 * s, 1e-9);
        assert_near(p->value - p->lo80, KHO_FORECAST_Z80 * s, 1e-9);
        assert_near(p->hi95 - p->value, KHO_FORECAST_Z95 * s, 1e-9);
        assert_near(p->value - p->lo95, KHO_FORECAST_Z95 * s, 1e-9);
        assert_near(p->value, f.level + (double)h * f.trend, 1e-9);
    }
}

/* The fitted (alpha, beta*) has an SSE no larger than any point of the 0.05 grid
 * (0.01, 0.05, 0.10, ..., 1.00 for both), and sigma^2 = SSE / (m - 2).
 * Returns how far below the best grid point the fit went (>= 0). */
static double check_fit_minimises(const double *y, size_t n)
{
    kho_forecast_t f = forecast_ok(y, n, 1);
    assert_string_equal(f.method, "holt");
    double fitted = kho_forecast_holt_sse(y, n, f.alpha, f.beta_star), grid_best = INFINITY;
    for (int i = 0; i <= 20; i++)
        for (int k = 0; k <= 20; k++) {
            double a = i == 0 ? 0.01 : i / 20.0, bs = k == 0 ? 0.01 : k / 20.0;
            double sse = kho_forecast_holt_sse(y, n, a, bs);
            if (!(fitted <= sse))
                fail_msg("n=%zu: SSE(fitted %.6f, %.6f) = %.17g > SSE(%.2f, %.2f) = %.17g", n, f.alpha, f.beta_star,
                         fitted, a, bs, sse);
            grid_best = fmin(grid_best, sse);
        }
    double m = (double)(n - 1);
    assert_near(f.sigma, sqrt(fitted / (m - 2)), 1e-9);
    return grid_best - fitted;
}

static void test_fit_minimises_sse(void **state)
{
    (void)state;
    /* the least-squares point here (alpha 1, beta* near 0.038) is off the grid: the
     * local refinement has to find something strictly better than the grid */
    assert_true(check_fit_minimises(noisy, N_OF(noisy)) > 0);
    check_fit_minimises(noisy, 4); /* m = 3: sigma^2 = SSE / 1 */
    const double wiggle[] = {10, 14, 9, 15, 8, 16, 7, 17, 6, 18};
    check_fit_minimises(wiggle, N_OF(wiggle));
    const double trend_break[] = {1, 2, 3, 4, 5, 6, 4, 2, 0, -2, -4};
    check_fit_minimises(trend_break, N_OF(trend_break));
}

/* n = 2, y = 3 7: slope (7 - 3) / 1 = 4, level 7 -> 11, 15, 19. One difference (4), which
 * is the slope itself: residual 0, sigma = 0, zero-width intervals.
 * n = 3, y = 1 4 5: slope (5 - 1) / 2 = 2, level 5 -> 7, 9, 11. Differences 3, 1, residuals
 * around the slope +1, -1: sigma^2 = (1 + 1) / (2 - 1) = 2, sigma = sqrt(2).
 * se_h = sqrt(2) sqrt(h (1 + h / 2)):
 *   h=1: sqrt(2 * 1.5) = sqrt(3)  = 1.7320508075688772 -> 80% +-2.219712424042684, 95% +-3.394757202228515
 *   h=2: sqrt(2 * 4)   = sqrt(8)  = 2.8284271247461903 -> 80% +-3.624775209747293, 95% +-5.543615297398712
 *   h=3: sqrt(2 * 7.5) = sqrt(15) = 3.872983346207417  -> 80% +-4.96342787066028,  95% +-7.590907871289961 */
static void test_drift_fallback(void **state)
{
    (void)state;
    const double two[] = {3, 7};
    kho_forecast_t f = forecast_ok(two, 2, 3);
    assert_string_equal(f.method, "drift");
    assert_true(isnan(f.alpha) && isnan(f.beta) && isnan(f.beta_star));
    assert_near(f.level, 7, 0);
    assert_near(f.trend, 4, 0);
    assert_near(f.sigma, 0, 0);
    for (size_t h = 1; h <= 3; h++) {
        const kho_fc_point_t *p = &f.points[h - 1];
        assert_near(p->value, 7 + 4.0 * (double)h, 1e-12);
        assert_near(p->lo95, p->value, 0);
        assert_near(p->hi95, p->value, 0);
    }
    assert_true(isnan(f.mape));
    assert_int_equal(f.backtest_n, 0);

    const double three[] = {1, 4, 5};
    const double w80[] = {2.219712424042684, 3.624775209747293, 4.96342787066028};
    const double w95[] = {3.394757202228515, 5.543615297398712, 7.590907871289961};
    f = forecast_ok(three, 3, 3);
    assert_string_equal(f.method, "drift");
    assert_near(f.level, 5, 0);
    assert_near(f.trend, 2, 0);
    assert_near(f.sigma, sqrt(2), 1e-12);
    for (size_t h = 1; h <= 3; h++) {
        const kho_fc_point_t *p = &f.points[h - 1];
        double v = 5 + 2.0 * (double)h;
        assert_near(p->value, v, 1e-12);
        assert_near(p->lo80, v - w80[h - 1], 1e-12);
        assert_near(p->hi80, v + w80[h - 1], 1e-12);
        assert_near(p->lo95, v - w95[h - 1], 1e-12);
        assert_near(p->hi95, v + w95[h - 1], 1e-12);
    }
    assert_true(isnan(f.mape));
    assert_int_equal(f.backtest_n, 0);

    const double four[] = {1, 4, 5, 9}; /* from 4 points on: Holt */
    f = forecast_ok(four, 4, 1);
    assert_string_equal(f.method, "holt");
}

/* kho_forecast fails with KHO_EINVAL, a message containing `needle`, and *out untouched. */
static void check_rejected(const double *y, size_t n, size_t horizon, const char *needle)
{
    kho_forecast_t f;
    memset(&f, 0x5a, sizeof f);
    kho_err_t err = {0};
    int rc = kho_forecast(y, n, horizon, &f, &err);
    if (rc != KHO_EINVAL)
        fail_msg("n=%zu horizon=%zu: rc %d (%s), expected KHO_EINVAL", n, horizon, rc, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("n=%zu horizon=%zu: message \"%s\" does not mention \"%s\"", n, horizon, err.msg, needle);
    unsigned char expect[sizeof f];
    memset(expect, 0x5a, sizeof expect);
    assert_memory_equal(&f, expect, sizeof f);
}

static void test_invalid_input(void **state)
{
    (void)state;
    const double ok[] = {1, 2, 3, 4, 5};
    check_rejected(NULL, 0, 1, "at least 2 values, got 0");
    check_rejected(ok, 1, 1, "at least 2 values, got 1");
    check_rejected(ok, 5, 0, "horizon must be 1 to 20 steps, got 0");
    check_rejected(ok, 5, 21, "horizon must be 1 to 20 steps, got 21");
    const double with_nan[] = {1, 2, NAN, 4};
    check_rejected(with_nan, 4, 1, "value 3 of 4 is NaN");
    const double with_inf[] = {1, 2, 3, INFINITY};
    check_rejected(with_inf, 4, 1, "value 4 of 4 is +Inf");
    const double with_ninf[] = {-INFINITY, 2};
    check_rejected(with_ninf, 2, 1, "value 1 of 2 is -Inf");
    const double huge[] = {-1.5e308, 1.5e308, -1.5e308, 1.5e308}; /* finite, but y_1 - y_0 overflows */
    check_rejected(huge, 4, 1, "too large");

    kho_forecast_t f = forecast_ok(ok, 5, KHO_FORECAST_MAX_HORIZON); /* the largest horizon is fine */
    assert_int_equal(f.horizon, 20);
    assert_near(f.points[19].value, 25, 1e-12);
}

/* y = 10 12 14 16 18 | 20 22 30 (n = 8): the fit on 10..18 is an exact line (level 18,
 * trend 2, whatever the parameters) -> 20, 22, 24. Errors 0, 0, 6:
 *   MAPE = (0/20 + 0/22 + 6/30) / 3 * 100 = 0.2 / 3 * 100 = 6.666...%
 * y = -6 -5 -4 -3 -2 | -1 0 5: fit -> level -2, trend 1 -> -1, 0, 1. The 0 is skipped:
 *   MAPE = (0/1 + 4/5) / 2 * 100 = 40%
 * y = -3 -2 -1 0 1 | 0 0 0: every held-out value is 0 -> NAN (backtest_n still 3).
 * n = 6 is too short for a backtest (the fit would have 3 points): NAN, backtest_n 0;
 * n = 7 (10..16 | 18 20 22) is the shortest that has one: MAPE 0. */
static void test_backtest_mape(void **state)
{
    (void)state;
    const double jump[] = {10, 12, 14, 16, 18, 20, 22, 30};
    kho_forecast_t f = forecast_ok(jump, N_OF(jump), 1);
    assert_int_equal(f.backtest_n, 3);
    assert_near(f.mape, 20.0 / 3.0, 1e-9);

    const double zero[] = {-6, -5, -4, -3, -2, -1, 0, 5};
    f = forecast_ok(zero, N_OF(zero), 1);
    assert_int_equal(f.backtest_n, 3);
    assert_near(f.mape, 40, 1e-9);

    const double zeros[] = {-3, -2, -1, 0, 1, 0, 0, 0};
    f = forecast_ok(zeros, N_OF(zeros), 1);
    assert_int_equal(f.backtest_n, 3);
    assert_true(isnan(f.mape));

    f = forecast_ok(jump, 6, 1);
    assert_int_equal(f.backtest_n, 0);
    assert_true(isnan(f.mape));
    f = forecast_ok(jump, 7, 1); /* n = 7: fit on 10..16 (4 points, Holt) -> 18 20 22, exact */
    assert_int_equal(f.backtest_n, 3);
    assert_near(f.mape, 0, 1e-9);
}

/* With sigma > 0 and every c_j > 0 the half-widths grow strictly with h, and the 95%
 * interval contains the 80% one, which contains the point forecast. */
static void test_intervals_widen_and_nest(void **state)
{
    (void)state;
    const double three[] = {1, 4, 5};
    const double *series[] = {noisy, three};
    const size_t lens[] = {N_OF(noisy), N_OF(three)};
    for (size_t s = 0; s < 2; s++) {
        kho_forecast_t f = forecast_ok(series[s], lens[s], KHO_FORECAST_MAX_HORIZON);
        assert_true(f.sigma > 0);
        double prev80 = 0, prev95 = 0;
        for (size_t h = 0; h < f.horizon; h++) {
            const kho_fc_point_t *p = &f.points[h];
            assert_true(p->lo95 < p->lo80 && p->lo80 < p->value);
            assert_true(p->value < p->hi80 && p->hi80 < p->hi95);
            double w80 = p->hi80 - p->lo80, w95 = p->hi95 - p->lo95;
            assert_true(w80 > prev80);
            assert_true(w95 > prev95);
            prev80 = w80;
            prev95 = w95;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_line),
        cmocka_unit_test(test_holt_sse_fixed_params),
        cmocka_unit_test(test_interval_formula),
        cmocka_unit_test(test_fit_minimises_sse),
        cmocka_unit_test(test_drift_fallback),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_backtest_mape),
        cmocka_unit_test(test_intervals_widen_and_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
