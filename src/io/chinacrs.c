/*
 * chinacrs.c — GCJ-02 and BD-09, the offset encodings of WGS84 used by Chinese web
 * maps. The forward directions are fixed formulas: GCJ-02 adds a smooth distortion
 * (given in pseudo-metres on the Krasovsky 1940 ellipsoid) to WGS84; BD-09 then
 * perturbs the GCJ-02 point in polar form and shifts it. Neither has a closed-form
 * inverse, so the inverses solve forward(p) = target by fixed-point iteration,
 * which converges fast because both offsets vary slowly (their Jacobians differ
 * from the identity by less than about 1e-2).
 */
#include "io/chinacrs.h"

#include <math.h>

#define CS_PI 3.14159265358979323846

/* Krasovsky 1940 ellipsoid, as fixed by the GCJ-02 definition. */
#define KRASOVSKY_A 6378245.0
#define KRASOVSKY_E2 0.00669342162296594323

/* BD-09 works on angles scaled by 3000/180 before taking sines. */
#define BD_X_PI (CS_PI * 3000.0 / 180.0)
#define BD_SHIFT_LON 0.0065
#define BD_SHIFT_LAT 0.006

/* Iteration limits: the contraction factor is ~1e-2, so 1e-12 degree takes about
 * six rounds; the cap only matters for pathological inputs (NaN stops at once). */
#define INVERSE_TOLERANCE_DEG 1e-12
#define INVERSE_MAX_ROUNDS 40

bool cs_china_in_bounds(double lon_deg, double lat_deg)
{
    /* Written as a positive test so that NaN is out of bounds. */
    return lon_deg >= 72.004 && lon_deg <= 137.8347 && lat_deg >= 0.8293 &&
           lat_deg <= 55.8271;
}

/* The periodic part shared by both distortion components. */
static double fine_ripple(double x)
{
    return (20.0 * sin(6.0 * CS_PI * x) + 20.0 * sin(2.0 * CS_PI * x)) * 2.0 / 3.0;
}

/* Northward distortion in pseudo-metres; x, y are lon-105 and lat-35 in degrees. */
static double distortion_north(double x, double y)
{
    double poly = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
                  0.2 * sqrt(fabs(x));
    double wave_mid = (20.0 * sin(CS_PI * y) + 40.0 * sin(CS_PI * y / 3.0)) * 2.0 / 3.0;
    double wave_long =
        (160.0 * sin(CS_PI * y / 12.0) + 320.0 * sin(CS_PI * y / 30.0)) * 2.0 / 3.0;
    return poly + fine_ripple(x) + wave_mid + wave_long;
}

/* Eastward distortion in pseudo-metres. */
static double distortion_east(double x, double y)
{
    double poly = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    double wave_mid = (20.0 * sin(CS_PI * x) + 40.0 * sin(CS_PI * x / 3.0)) * 2.0 / 3.0;
    double wave_long =
        (150.0 * sin(CS_PI * x / 12.0) + 300.0 * sin(CS_PI * x / 30.0)) * 2.0 / 3.0;
    return poly + fine_ripple(x) + wave_mid + wave_long;
}

/*
 * The GCJ-02 encoding without the bounds test. The distortion is turned into degrees
 * with the ellipsoid's radii of curvature at the point: meridional M for latitude,
 * prime-vertical N times cos(lat) for longitude.
 */
static void gcj02_offset_apply(double lon, double lat, double *out_lon, double *out_lat)
{
    double phi = lat * CS_PI / 180.0;
    double s = sin(phi);
    double w2 = 1.0 - KRASOVSKY_E2 * s * s;
    double w = sqrt(w2);
    double m = KRASOVSKY_A * (1.0 - KRASOVSKY_E2) / (w2 * w);
    double n = KRASOVSKY_A / w;
    double dn = distortion_north(lon - 105.0, lat - 35.0);
    double de = distortion_east(lon - 105.0, lat - 35.0);
    *out_lat = lat + dn / m * 180.0 / CS_PI;
    *out_lon = lon + de / (n * cos(phi)) * 180.0 / CS_PI;
}

typedef void (*forward_fn)(double lon, double lat, double *out_lon, double *out_lat);

/* Solve forward(p) = target starting from p = start, by p += target - forward(p). */
static void invert(forward_fn forward, double target_lon, double target_lat,
                   double start_lon, double start_lat, double *out_lon, double *out_lat)
{
    double lon = start_lon, lat = start_lat;
    for (int round = 0; round < INVERSE_MAX_ROUNDS; round++) {
        double f_lon, f_lat;
        forward(lon, lat, &f_lon, &f_lat);
        double r_lon = target_lon - f_lon, r_lat = target_lat - f_lat;
        lon += r_lon;
        lat += r_lat;
        /* Negated test so that NaN ends the loop. */
        if (!(fabs(r_lon) + fabs(r_lat) > INVERSE_TOLERANCE_DEG))
            break;
    }
    *out_lon = lon;
    *out_lat = lat;
}

void cs_gcj02_from_wgs84(double lon_deg, double lat_deg, double *out_lon_deg,
                         double *out_lat_deg)
{
    if (!cs_china_in_bounds(lon_deg, lat_deg)) {
        *out_lon_deg = lon_deg;
        *out_lat_deg = lat_deg;
        return;
    }
    gcj02_offset_apply(lon_deg, lat_deg, out_lon_deg, out_lat_deg);
}

void cs_wgs84_from_gcj02(double lon_deg, double lat_deg, double *out_lon_deg,
                         double *out_lat_deg)
{
    if (!cs_china_in_bounds(lon_deg, lat_deg)) {
        *out_lon_deg = lon_deg;
        *out_lat_deg = lat_deg;
        return;
    }
    /* Iterate on the unbounded formula so the solve stays smooth near the edges. */
    invert(gcj02_offset_apply, lon_deg, lat_deg, lon_deg, lat_deg, out_lon_deg,
           out_lat_deg);
}

void cs_bd09_from_gcj02(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg)
{
    double r = sqrt(lon_deg * lon_deg + lat_deg * lat_deg) + 0.00002 * sin(lat_deg * BD_X_PI);
    double theta = atan2(lat_deg, lon_deg) + 0.000003 * cos(lon_deg * BD_X_PI);
    double bd_lon = r * cos(theta) + BD_SHIFT_LON;
    double bd_lat = r * sin(theta) + BD_SHIFT_LAT;
    *out_lon_deg = bd_lon;
    *out_lat_deg = bd_lat;
}

void cs_gcj02_from_bd09(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg)
{
    /* Undoing the shift alone is within ~2e-5 degree; iteration does the rest. */
    invert(cs_bd09_from_gcj02, lon_deg, lat_deg, lon_deg - BD_SHIFT_LON,
           lat_deg - BD_SHIFT_LAT, out_lon_deg, out_lat_deg);
}

void cs_wgs84_from_bd09(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg)
{
    double gcj_lon, gcj_lat;
    cs_gcj02_from_bd09(lon_deg, lat_deg, &gcj_lon, &gcj_lat);
    cs_wgs84_from_gcj02(gcj_lon, gcj_lat, out_lon_deg, out_lat_deg);
}

void cs_bd09_from_wgs84(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg)
{
    double gcj_lon, gcj_lat;
    cs_gcj02_from_wgs84(lon_deg, lat_deg, &gcj_lon, &gcj_lat);
    cs_bd09_from_gcj02(gcj_lon, gcj_lat, out_lon_deg, out_lat_deg);
}
