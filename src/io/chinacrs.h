/*
 * chinacrs.h — the two Chinese map encodings of WGS84 that PROJ does not know:
 * GCJ-02 (the official "Mars" offset used by AMap and Tencent) and BD-09 (Baidu's
 * further shift on top of GCJ-02). Inputs in those encodings are turned back into
 * WGS84 here before PROJ sees them.
 *
 * All angles are in degrees, longitude first. Every out-parameter may point at the
 * storage of an input (in-place conversion is allowed); NaN in gives NaN out.
 * Pure functions: thread-safe, no context, no allocation.
 */
#ifndef CS_CHINACRS_H
#define CS_CHINACRS_H

#include <stdbool.h>

/*
 * Whether the GCJ-02 offset applies at this point: the rough rectangle around China
 * (lon 72.004..137.8347, lat 0.8293..55.8271) that every published implementation
 * uses. Outside it GCJ-02 equals WGS84. False for NaN.
 */
bool cs_china_in_bounds(double lon_deg, double lat_deg);

/* WGS84 -> GCJ-02. The identity outside cs_china_in_bounds(). */
void cs_gcj02_from_wgs84(double lon_deg, double lat_deg, double *out_lon_deg,
                         double *out_lat_deg);

/*
 * GCJ-02 -> WGS84: the point whose GCJ-02 encoding is the input, found by iteration
 * to better than 1e-9 degree (about 0.1 mm). The identity when the input is outside
 * cs_china_in_bounds(). Within the offset (a few hundred metres) of the rectangle's
 * edges the encoding is not one-to-one and the result is only approximate there.
 */
void cs_wgs84_from_gcj02(double lon_deg, double lat_deg, double *out_lon_deg,
                         double *out_lat_deg);

/* GCJ-02 -> BD-09 with Baidu's published formula. Applied everywhere (no bounds). */
void cs_bd09_from_gcj02(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg);

/*
 * BD-09 -> GCJ-02: the exact inverse of cs_bd09_from_gcj02 (to better than 1e-9
 * degree), not the usual closed-form approximation, which is off by up to ~0.25 m.
 */
void cs_gcj02_from_bd09(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg);

/* BD-09 -> WGS84: cs_gcj02_from_bd09 then cs_wgs84_from_gcj02. */
void cs_wgs84_from_bd09(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg);

/* WGS84 -> BD-09: cs_gcj02_from_wgs84 then cs_bd09_from_gcj02. */
void cs_bd09_from_wgs84(double lon_deg, double lat_deg, double *out_lon_deg,
                        double *out_lat_deg);

#endif /* CS_CHINACRS_H */
