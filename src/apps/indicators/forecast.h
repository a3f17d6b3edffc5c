/*
 * forecast — short-horizon forecasts of one indicator series, with prediction
 * intervals and a small backtest.
 *
 * The input is a series of equally spaced values, oldest first. Series of four
 * points or more get Holt's linear trend method (additive level and trend, no
 * seasonality; the ETS(A,A,N) model of Hyndman & Athanasopoulos, "Forecasting:
 * Principles and Practice", ch. 8), with both smoothing parameters fitted by
 * least squares. Two or three points are too few to fit anything: they get the
 * random walk with drift (the line through the first and last value, continued).
 *
 * Holt in error-correction form, state after observing y_0 is l_0 = y_0,
 * b_0 = y_1 - y_0; for t = 1..n-1:
 *
 *     e_t = y_t - (l_{t-1} + b_{t-1})          one-step error
 *     l_t = l_{t-1} + b_{t-1} + alpha e_t
 *     b_t = b_{t-1} + alpha beta* e_t           (beta = alpha beta*)
 *
 * so there are m = n - 1 one-step errors (e_1 is always 0 by construction).
 * alpha and beta* are each searched in [0.01, 1]: every point of the grid
 * {0.01, 0.05, 0.10, ..., 1.00}^2, then a compass search from the best of them
 * that only takes strict improvements. The result is deterministic, and its SSE
 * is never above the SSE at any grid point; ties keep the first point found
 * (smallest alpha, then smallest beta*).
 *
 * Everything here is pure computation on caller memory: no allocation, no
 * global state, safe to call from any thread.
 */
#ifndef KHO_APPS_INDICATORS_FORECAST_H
#define KHO_APPS_INDICATORS_FORECAST_H

#include <stddef.h>

#include "core/err.h"

#define KHO_FORECAST_MAX_HORIZON 20

/* One forecast step: the point forecast and its 80% and 95% prediction intervals. */
typedef struct kho_fc_point {
    double value, lo80, hi80, lo95, hi95;
} kho_fc_point_t;

typedef struct kho_forecast {
    const char *method;  /* static string: "holt" (n >= 4) or "drift" (n = 2 or 3) */
    double alpha, beta;  /* fitted smoothing parameters, beta = alpha * beta_star (holt); NAN for drift */
    double beta_star;    /* the fitted beta* in [0.01, 1] (holt); NAN for drift */
    double level, trend; /* final state: forecast h steps ahead is level + h * trend */
    double sigma;        /* residual standard deviation of one-step errors */
    double mape;         /* backtest MAPE in percent over the last 3 points; NAN when not computable */
    size_t backtest_n;   /* points held out in the backtest (3, or 0 when n < 7) */
    size_t horizon;      /* entries of points[] in use */
    kho_fc_point_t points[KHO_FORECAST_MAX_HORIZON]; /* points[h-1] is h steps after y[n-1] */
} kho_forecast_t;

/* z quantiles of the standard normal distribution for two-sided 80% and 95% intervals. */
#define KHO_FORECAST_Z80 1.2815515655446004
#define KHO_FORECAST_Z95 1.959963984540054

/* Forecast `horizon` (1..KHO_FORECAST_MAX_HORIZON) steps after y[0..n-1] (equally
 * spaced, oldest first, all finite). y is borrowed; *out is written only on
 * success (points beyond `horizon` are zero).
 *
 * Holt (n >= 4): sigma^2 = SSE / (m - 2) with m = n - 1 one-step errors (the two
 * smoothing parameters are the degrees of freedom lost); the h-step variance is
 * sigma^2 [1 + sum_{j=1}^{h-1} (alpha + alpha beta* j)^2].
 * Drift (n = 2, 3): trend = (y[n-1] - y[0]) / (n - 1), level = y[n-1]; sigma is the
 * standard deviation of the one-step differences around that slope (denominator
 * m - 1, one parameter estimated; 0 when n = 2, where the one difference is the
 * slope); the h-step standard error is sigma sqrt(h (1 + h / (n - 1))).
 * Intervals are value -/+ z * standard error with KHO_FORECAST_Z80 / _Z95.
 *
 * Backtest (n >= 7): the last 3 points are held out, the method is fitted on
 * y[0..n-4] and forecast 1..3 steps; mape = mean(|y - yhat| / |y|) * 100 over the
 * held-out points whose y is not 0 (NAN when all three are 0), backtest_n = 3.
 * For n < 7, mape = NAN and backtest_n = 0.
 *
 * Returns 0, or KHO_EINVAL with a message when n < 2, horizon is out of range, a
 * value is NaN or infinite, or the values are so large that the arithmetic
 * overflows. y may be NULL only when n is 0. */
int kho_forecast(const double *y, size_t n, size_t horizon, kho_forecast_t *out, kho_err_t *err) KHO_WUR;

/* Sum of squared one-step errors of Holt's method on y[0..n-1] with fixed alpha and
 * beta* (not range-checked), from l_0 = y_0, b_0 = y_1 - y_0 over t = 1..n-1 (see the
 * recursion above). This is the quantity kho_forecast() minimises. NAN when n < 2. */
double kho_forecast_holt_sse(const double *y, size_t n, double alpha, double beta_star);

/* Standard error of Holt's h-step forecast (h >= 1) for residual standard deviation
 * sigma: sigma * sqrt(1 + sum_{j=1}^{h-1} (alpha + alpha beta* j)^2). */
double kho_forecast_holt_se(double sigma, double alpha, double beta_star, size_t h);

#endif
