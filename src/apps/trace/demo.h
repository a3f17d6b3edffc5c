/*
 * demo — the traceability demo (deterministic, labelled synthetic): the master
 * data and EPCIS documents of three supply chains of Hưng Yên.
 *
 *   - Longan (nhãn lồng): six orchards of a co-operative in the communes around
 *     Phố Hiến, harvests over six days of July 2025; lots of two orchards are
 *     merged at the packhouse (one harvest is split into two packed lots);
 *     inspection, palletising, cold store, chilled transport to a
 *     distribution centre and supermarkets in Hà Nội. One shipment's
 *     temperature rises above 8 °C (a cold-chain excursion).
 *   - Banana (chuối tiêu hồng): two farms, weekly harvests, ripening room,
 *     transport, retail.
 *   - Hill chicken (gà đồi): flocks, feed inputs, slaughter (a
 *     TransformationEvent from the flock to the product lot), chilled
 *     transport, retail.
 * Every name is fictional. GTINs and GLNs are under the company prefix
 * 8930001 (Vietnam's GS1 prefix 893).
 */
#ifndef KHO_APPS_TRACE_DEMO_H
#define KHO_APPS_TRACE_DEMO_H

#include <jansson.h>

#include "core/err.h"

/* *master: {"synthetic":true,"farms":[...],"products":[...],"locations":[...],"partners":[...]};
 * *docs: EPCISDocuments (at most 100 events each) in capture order. Both new. */
int kho_trace_demo(json_t **master, json_t **docs, kho_err_t *err);

/* The showcase longan lot (`make run` prints its journey): a clean merge of two orchards' harvests. */
void kho_trace_demo_showcase(char gtin14[15], char lot[32]);

#endif
