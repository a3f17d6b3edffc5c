/* forecast — Holt's linear trend / drift forecasts with intervals and a backtest (see forecast.h). */
#include "apps/indicators/forecast.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define PARAM_MIN 0.01
#define PARAM_MAX 1.0
#define GRID_STEPS 20        /* coarse grid: PARAM_MIN, then k / GRID_STEPS for k = 1..GRID_STEPS */
#define SEARCH_STEP0 0.025   /* first compass step: half the grid spacing */
#define SEARCH_STEP_MIN 1e-6 /* stop when the step is below this */
#define SEARCH_MAX_MOVES 10000
#define BACKTEST_N 3
#define BACKTEST_MIN_N 7 /* the fit on the remaining n - 3 points must have >= 4 points (Holt) */
#define HOLT_MIN_N 4

/* Run Holt's recursion over y[0..n-1] (n >= 2); returns the SSE of the one-step
 * errors and leaves the final state in *level, *trend. */
static double holt_run(const double *y, size_t n, double alpha, double beta_star, double *level, double *trend)
{
    double l = y[0], b = y[1] - y[0], sse = 0;
    for (size_t t = 1; t < n; t++) {
        double e = y[t] - (l + b);
        l = l + b + alpha * e;
        b = b + alpha * beta_star * e;
        sse += e * e;
    }
    *level = l;
    *trend = b;
    return sse;
}

double kho_forecast_holt_sse(const double *y, size_t n, double alpha, double beta_star)
{
    if (n < 2)
        return NAN;
    double l, b;
    return holt_run(y, n, alpha, beta_star, &l, &b);
}

double kho_forecast_holt_se(double sigma, double alpha, double beta_star, size_t h)
{
    double sum = 1;
    for (size_t j = 1; j < h; j++) {
        double c = alpha + alpha * beta_star * (double)j;
        sum += c * c;
    }
    return sigma * sqrt(sum);
}

/* The i-th value (0..GRID_STEPS) of the coarse grid for both parameters. */
static double grid_value(int i)
{
    return i == 0 ? PARAM_MIN : (double)i / GRID_STEPS;
}

static double clamp_param(double v)
{
    return v < PARAM_MIN ? PARAM_MIN : v > PARAM_MAX ? PARAM_MAX : v;
}

/* The coarse grid: the point of least SSE, the first one on ties. */
static double fit_grid(const double *y, size_t n, double *alpha, double *beta_star)
{
    double best = INFINITY;
    *alpha = *beta_star = PARAM_MIN;
    for (int i = 0; i <= GRID_STEPS; i++)
        for (int k = 0; k <= GRID_STEPS; k++) {
            double sse = kho_forecast_holt_sse(y, n, grid_value(i), grid_value(k));
            if (sse < best) {
                best = sse;
                *alpha = grid_value(i);
                *beta_star = grid_value(k);
            }
        }
    return best;
}

/* Compass search from (*alpha, *beta_star) whose SSE is `sse`: try the four
 * neighbours at the current step (clamped to the box), move to the best one when it
 * is strictly better, else halve the step. Only improvements are taken. */
static void fit_refine(const double *y, size_t n, double *alpha, double *beta_star, double sse)
{
    static const int dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    double step = SEARCH_STEP0;
    int moves = 0;
    while (step >= SEARCH_STEP_MIN && moves < SEARCH_MAX_MOVES) {
        double best = sse, ba = *alpha, bb = *beta_star;
        for (int d = 0; d < 4; d++) {
            double a = clamp_param(*alpha + dirs[d][0] * step);
            double bs = clamp_param(*beta_star + dirs[d][1] * step);
            double s = kho_forecast_holt_sse(y, n, a, bs);
            if (s < best) {
                best = s;
                ba = a;
                bb = bs;
            }
        }
        if (best < sse) {
            sse = best;
            *alpha = ba;
            *beta_star = bb;
            moves++;
        } else {
            step /= 2;
        }
    }
}

/* Holt on y[0..n-1] (n >= HOLT_MIN_N): parameters, final state and sigma. */
static void fit_holt(const double *y, size_t n, kho_forecast_t *f)
{
    double a, bs;
    double sse = fit_grid(y, n, &a, &bs);
    fit_refine(y, n, &a, &bs, sse);
    sse = holt_run(y, n, a, bs, &f->level, &f->trend);
    size_t m = n - 1;
    double df = (double)(m > 2 ? m - 2 : m);
    f->method = "holt";
    f->alpha = a;
    f->beta_star = bs;
    f->beta = a * bs;
    f->sigma = sse == 0 ? 0 : sqrt(sse / df);
}

/* Random walk with drift on y[0..n-1] (n >= 2). */
static void fit_drift(const double *y, size_t n, kho_forecast_t *f)
{
    size_t m = n - 1;
    double slope = (y[n - 1] - y[0]) / (double)m, ss = 0;
    for (size_t t = 1; t < n; t++) {
        double r = (y[t] - y[t - 1]) - slope;
        ss += r * r;
    }
    f->method = "drift";
    f->alpha = f->beta = f->beta_star = NAN;
    f->level = y[n - 1];
    f->trend = slope;
    f->sigma = m > 1 && ss > 0 ? sqrt(ss / (double)(m - 1)) : 0;
}

static void fit(const double *y, size_t n, kho_forecast_t *f)
{
    if (n >= HOLT_MIN_N)
        fit_holt(y, n, f);
    else
        fit_drift(y, n, f);
}

/* Standard error of the h-step forecast of a fitted model on n points. */
static double forecast_se(const kho_forecast_t *f, size_t n, size_t h)
{
    if (strcmp(f->method, "holt") == 0)
        return kho_forecast_holt_se(f->sigma, f->alpha, f->beta_star, h);
    double hd = (double)h;
    return f->sigma * sqrt(hd * (1 + hd / (double)(n - 1)));
}

static void fill_points(kho_forecast_t *f, size_t n)
{
    for (size_t h = 1; h <= f->horizon; h++) {
        kho_fc_point_t *p = &f->points[h - 1];
        double se = forecast_se(f, n, h);
        p->value = f->level + (double)h * f->trend;
        p->lo80 = p->value - KHO_FORECAST_Z80 * se;
        p->hi80 = p->value + KHO_FORECAST_Z80 * se;
        p->lo95 = p->value - KHO_FORECAST_Z95 * se;
        p->hi95 = p->value + KHO_FORECAST_Z95 * se;
    }
}

/* Hold out the last BACKTEST_N points, fit on the rest, score the 1..3-step forecasts. */
static void backtest(const double *y, size_t n, kho_forecast_t *f)
{
    f->mape = NAN;
    f->backtest_n = 0;
    if (n < BACKTEST_MIN_N)
        return;
    kho_forecast_t bt = {0};
    size_t fit_n = n - BACKTEST_N;
    fit(y, fit_n, &bt);
    double sum = 0;
    size_t used = 0;
    for (size_t h = 1; h <= BACKTEST_N; h++) {
        double actual = y[fit_n + h - 1];
        if (actual == 0)
            continue;
        sum += fabs(actual - (bt.level + (double)h * bt.trend)) / fabs(actual);
        used++;
    }
    f->backtest_n = BACKTEST_N;
    if (used > 0)
        f->mape = sum / (double)used * 100;
}

static int check_input(const double *y, size_t n, size_t horizon, kho_err_t *err)
{
    if (n < 2)
        return kho_err_set(err, KHO_EINVAL, "forecast: need at least 2 values, got %zu", n);
    if (horizon < 1 || horizon > KHO_FORECAST_MAX_HORIZON)
        return kho_err_set(err, KHO_EINVAL, "forecast: horizon must be 1 to %d steps, got %zu",
                           KHO_FORECAST_MAX_HORIZON, horizon);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return kho_err_set(err, KHO_EINVAL, "forecast: value %zu of %zu is %s; every value must be a finite number",
                               i + 1, n,
                               isnan(y[i]) ? "NaN"
                               : y[i] > 0  ? "+Inf"
                                           : "-Inf");
    return 0;
}

static bool result_finite(const kho_forecast_t *f)
{
    if (!isfinite(f->level) || !isfinite(f->trend) || !isfinite(f->sigma))
        return false;
    for (size_t h = 0; h < f->horizon; h++) {
        const kho_fc_point_t *p = &f->points[h];
        if (!isfinite(p->lo95) || !isfinite(p->hi95) || !isfinite(p->lo80) || !isfinite(p->hi80))
            return false;
    }
    return true;
}

int kho_forecast(const double *y, size_t n, size_t horizon, kho_forecast_t *out, kho_err_t *err)
{
    int rc = check_input(y, n, horizon, err);
    if (rc < 0)
        return rc;
    kho_forecast_t f = {0};
    f.horizon = horizon;
    fit(y, n, &f);
    fill_points(&f, n);
    if (!result_finite(&f))
        return kho_err_set(err, KHO_EINVAL, "forecast: the values are too large in magnitude to forecast (overflow)");
    backtest(y, n, &f);
    *out = f;
    return 0;
}
