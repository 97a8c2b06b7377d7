//! The OpenAPI 3.1 document served at `/openapi.json`. A test sends a
//! request to every operation listed here and checks that the router has it.

use serde_json::{Value, json};

fn error_responses(codes: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for code in codes {
        out.insert(
            (*code).to_owned(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
    }
    Value::Object(out)
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

fn export(summary: &str, media: &str, aggregates: bool) -> Value {
    let mut params = vec![json!({ "$ref": "#/components/parameters/key" })];
    if aggregates {
        params.push(json!({ "$ref": "#/components/parameters/group_by" }));
    }
    for p in [
        "from",
        "to",
        "page",
        "stage",
        "touchpoint",
        "metric",
        "device",
        "locale",
        "bom",
    ] {
        params.push(json!({ "$ref": format!("#/components/parameters/{p}") }));
    }
    if !aggregates {
        params.push(json!({ "$ref": "#/components/parameters/flag" }));
        params.push(json!({ "$ref": "#/components/parameters/q" }));
    }
    json!({ "get": {
        "summary": summary,
        "security": [{ "bearer": [] }],
        "parameters": params,
        "responses": with(
            json!({ "200": { "description": "The file, streamed.", "content": { media: {} } } }),
            error_responses(&["400", "401", "403"]),
        ),
    }})
}

/// The whole document.
pub fn document() -> Value {
    let text = |d: &str| json!({ "description": d, "content": { "text/plain": {} } });
    let key = json!({ "$ref": "#/components/parameters/key" });
    let filters: Vec<Value> = [
        "group_by",
        "from",
        "to",
        "page",
        "stage",
        "touchpoint",
        "metric",
        "device",
        "locale",
    ]
    .iter()
    .map(|p| json!({ "$ref": format!("#/components/parameters/{p}") }))
    .chain(std::iter::once(key.clone()))
    .collect();
    let query = |name: &str, d: &str| json!({ "name": name, "in": "query", "required": false, "description": d, "schema": { "type": "string" } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Touchpoint",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Micro-feedback at every touchpoint of the customer journey: ingest, configuration, aggregates, exports."
        },
        "paths": {
            "/healthz": { "get": { "summary": "Liveness.", "responses": { "200": text("ok") } } },
            "/readyz": { "get": { "summary": "Readiness: the database answers.", "responses": with(json!({ "200": text("ready") }), error_responses(&["503"])) } },
            "/metrics": { "get": {
                "summary": "Prometheus metrics: with the operator's metrics token (`--metrics-token`); without one configured, only on the separate `--metrics-addr`.",
                "security": [{ "metrics": [] }],
                "responses": with(json!({ "200": text("Exposition format 0.0.4") }), error_responses(&["401", "404"]))
            } },
            "/openapi.json": { "get": { "summary": "This document.", "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } } } },
            "/t.js": { "get": { "summary": "The loader a site's script tag points at.", "responses": { "200": { "description": "JavaScript", "content": { "text/javascript": {} } } } } },
            "/widget/{file}": { "get": {
                "summary": "Content-hashed widget files (immutable).",
                "parameters": [{ "name": "file", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "JavaScript or WebAssembly" }, "404": { "description": "No such file" } }
            } },
            "/v1/events": { "post": {
                "summary": "Ingest a batch of events (all or nothing; 202 only once durable).",
                "requestBody": { "required": true, "content": {
                    "text/plain": { "schema": { "$ref": "#/components/schemas/EventBatch" } },
                    "application/json": { "schema": { "$ref": "#/components/schemas/EventBatch" } }
                } },
                "responses": with(
                    json!({ "202": { "description": "Stored", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Accepted" } } } } }),
                    error_responses(&["400", "403", "404", "408", "413", "415", "429", "503"]),
                )
            } },
            "/v1/session": {
                "post": {
                    "summary": "Sign in to the dashboard: sets an HttpOnly, SameSite=Strict session cookie and returns the CSRF token.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["email", "password"], "properties": { "email": { "type": "string" }, "password": { "type": "string" } } } } } },
                    "responses": with(json!({ "200": { "description": "{email, csrf, sites}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "429", "503"]))
                },
                "get": {
                    "summary": "Who is signed in, with the CSRF token and the sites they may see.",
                    "responses": with(json!({ "200": { "description": "{email, csrf, sites}", "content": { "application/json": {} } } }), error_responses(&["401"]))
                },
                "delete": {
                    "summary": "Sign out (needs X-CSRF-Token).",
                    "responses": with(json!({ "200": { "description": "Signed out", "content": { "application/json": {} } } }), error_responses(&["401", "403"]))
                }
            },
            "/v1/sites/{key}/config": { "get": {
                "summary": "What the widget needs: stages and touchpoints. Public, cacheable, ETag.",
                "parameters": [key],
                "responses": with(json!({ "200": { "description": "Configuration", "content": { "application/json": {} } }, "304": { "description": "Not modified" } }), error_responses(&["404"]))
            } },
            "/v1/sites/{key}/aggregates": { "get": {
                "summary": "One row per group × metric, each with n and its interval.",
                "security": [{ "bearer": [] }],
                "parameters": filters,
                "responses": with(json!({ "200": { "description": "Rows", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/journey": { "get": {
                "summary": "The journey map: the site's stages in journey order (`unassigned` last, when it has events), each with a cell per touchpoint: score, its 95 % interval, responses, impressions, response, dismiss and frustration rates, small_sample.",
                "security": [{ "bearer": [] }],
                "parameters": [key.clone(), { "$ref": "#/components/parameters/from" }, { "$ref": "#/components/parameters/to" }],
                "responses": with(json!({ "200": { "description": "{\"stages\": [{\"id\", \"label\", \"touchpoints\": [cell…]}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/trends": { "get": {
                "summary": "One touchpoint's score per day or ISO week (site's time zone), each point with n, its interval and the change from the point before (delta, p_value, significant: p < 0.05 with both n ≥ 30).",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "touchpoint", "in": "query", "required": true, "description": "The touchpoint's id.", "schema": { "type": "string" } },
                    { "name": "interval", "in": "query", "required": false, "description": "day (default) or week.", "schema": { "enum": ["day", "week"] } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" }
                ],
                "responses": with(json!({ "200": { "description": "{\"touchpoint\", \"metric\", \"interval\", \"points\": [{\"period\", \"responses\", \"score\", \"low\", \"high\", \"small_sample\", \"change\"}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403", "404"]))
            } },
            "/v1/sites/{key}/priorities": { "get": {
                "summary": "Stop the bleeding: touchpoints ranked by impact = responses × the gap below the site's norm for their metric (the site's score for it over the same days), the gap as a percentage of the score's range; each with impact, its 95 % interval (low, high), responses, score, norm, bleeding (the whole interval below the norm) and ranked (false under 30 answers: listed after every ranked row).",
                "security": [{ "bearer": [] }],
                "parameters": [key.clone(), { "$ref": "#/components/parameters/from" }, { "$ref": "#/components/parameters/to" }],
                "responses": with(json!({ "200": { "description": "{\"touchpoints\": [{\"touchpoint\", \"metric\", \"responses\", \"score\", \"norm\", \"gap\", \"impact\", \"low\", \"high\", \"bleeding\", \"ranked\", \"small_sample\"}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/priorities.csv": { "get": {
                "summary": "The priorities as CSV, one row per touchpoint in the same order.",
                "security": [{ "bearer": [] }],
                "parameters": [key.clone(), { "$ref": "#/components/parameters/from" }, { "$ref": "#/components/parameters/to" }, { "$ref": "#/components/parameters/bom" }],
                "responses": with(json!({ "200": { "description": "CSV", "content": { "text/csv": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/drivers": { "get": {
                "summary": "What moves the relationship NPS: for visitors who answered it and another touchpoint (latest answers), per touchpoint the relationship NPS of its satisfied answerers (top of its scale) minus that of the rest (effect), its 95 % interval (low, high), visitors; ranked by effect, rows with fewer than 30 visitors in either group listed after them with ranked: false.",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "relationship", "in": "query", "required": true, "description": "The site's relationship NPS touchpoint.", "schema": { "type": "string" } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" }
                ],
                "responses": with(json!({ "200": { "description": "{\"relationship\", \"visitors\", \"touchpoints\": [{\"touchpoint\", \"metric\", \"visitors\", \"satisfied\", \"unsatisfied\", \"effect\", \"low\", \"high\", \"ranked\"}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/drivers.csv": { "get": {
                "summary": "The drivers as CSV, one row per touchpoint in the same order.",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "relationship", "in": "query", "required": true, "description": "The site's relationship NPS touchpoint.", "schema": { "type": "string" } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" },
                    { "$ref": "#/components/parameters/bom" }
                ],
                "responses": with(json!({ "200": { "description": "CSV", "content": { "text/csv": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/frustration": { "get": {
                "summary": "Behavioural frustration beside the scores, per touchpoint (default) or page × metric: impressions, frustrated (impressions whose page view — visitor, session, page — recorded any signal) and its rate with a 95 % Wilson interval, per signal (rage_click, dead_click, error always; others as recorded) views, rate, low, high; the score of answers given at or after a signal in their page view (after_signal) and of the others (without_signal), each with responses, score, low, high, small_sample; and difference (after − without: delta, p_value, significant as in trends). Most frustrated first.",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "group_by", "in": "query", "required": false, "description": "touchpoint (default) or page.", "schema": { "enum": ["touchpoint", "page"] } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" }
                ],
                "responses": with(json!({ "200": { "description": "{\"group_by\", \"rows\": [{\"touchpoint\" | \"page\", \"metric\", \"impressions\", \"frustrated\", \"frustration_rate\", \"frustration_low\", \"frustration_high\", \"signals\": {name: {\"views\", \"rate\", \"low\", \"high\"}}, \"after_signal\", \"without_signal\", \"difference\"}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/frustration.csv": { "get": {
                "summary": "The frustration rows as CSV in the same order: a column group per signal (rage_click_views, rage_click_rate, …) and per side (after_signal_…, without_signal_…).",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "group_by", "in": "query", "required": false, "description": "touchpoint (default) or page.", "schema": { "enum": ["touchpoint", "page"] } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" },
                    { "$ref": "#/components/parameters/bom" }
                ],
                "responses": with(json!({ "200": { "description": "CSV", "content": { "text/csv": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/outcomes": { "get": {
                "summary": "Conversion after answers: per touchpoint (site file order) × score band (detractor/passive/promoter for NPS; low/mid/high otherwise, thumbs low/high), the visitors whose first answer in the range fell in the band, how many reached the outcome at any time after it (converted), rate with its 95 % Wilson interval (low, high), small_sample (under 30 visitors) and difference against the touchpoint's lowest band (delta, p_value of a two-proportion z test, significant at p < 0.05 with 30 visitors in each).",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "outcome", "in": "query", "required": false, "description": "The id of one of the site's [[outcome]]s; may be left out when the site declares one.", "schema": { "type": "string" } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" }
                ],
                "responses": with(json!({ "200": { "description": "{\"outcome\", \"rows\": [{\"touchpoint\", \"metric\", \"band\", \"visitors\", \"converted\", \"rate\", \"low\", \"high\", \"small_sample\", \"difference\"}]}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/outcomes.csv": { "get": {
                "summary": "The outcome rows as CSV in the same order, the outcome's id in the first column.",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "name": "outcome", "in": "query", "required": false, "description": "The id of one of the site's [[outcome]]s; may be left out when the site declares one.", "schema": { "type": "string" } },
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" },
                    { "$ref": "#/components/parameters/bom" }
                ],
                "responses": with(json!({ "200": { "description": "CSV", "content": { "text/csv": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/site.toml": { "get": {
                "summary": "The site's configuration as the TOML site file `touchpoint apply` (and PUT /site with a toml content type) reads, as GET /site shows it: alert secrets masked, and for viewers destinations' hosts only. Sent as an attachment.",
                "security": [{ "bearer": [] }],
                "parameters": [key.clone()],
                "responses": with(json!({ "200": { "description": "TOML", "content": { "application/toml": {} } } }), error_responses(&["401", "403"]))
            } },
            "/v1/sites/{key}/comments": { "get": {
                "summary": "The answers that carry a comment, newest first, a page at a time: id, ts, page, stage, touchpoint, metric, score, comment (masked for personal data before it was stored; plain text), locale, device, flags. `next` is the cursor of the following (older) page, null on the last.",
                "security": [{ "bearer": [] }],
                "parameters": [
                    key.clone(),
                    { "$ref": "#/components/parameters/from" },
                    { "$ref": "#/components/parameters/to" },
                    { "$ref": "#/components/parameters/page" },
                    { "$ref": "#/components/parameters/stage" },
                    { "$ref": "#/components/parameters/touchpoint" },
                    { "$ref": "#/components/parameters/metric" },
                    { "$ref": "#/components/parameters/flag" },
                    { "$ref": "#/components/parameters/q" },
                    query("response", "Only this answer (its id), as an alert links to it."),
                    query("before", "The previous page's `next`."),
                    query("limit", "Comments per page, 1–200 (default 50).")
                ],
                "responses": with(json!({ "200": { "description": "{\"comments\": [{\"id\", \"ts\", \"page\", \"stage\", \"touchpoint\", \"metric\", \"score\", \"comment\", \"locale\", \"device\", \"flags\"}], \"next\"}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/site": {
                "get": {
                    "summary": "The site's configuration, shaped like the site file (viewer); alert secrets masked (`…xyz9`), and for viewers alert URLs cut to their host.",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }],
                    "responses": with(json!({ "200": { "description": "Site file as JSON", "content": { "application/json": {} } } }), error_responses(&["401", "403"]))
                },
                "put": {
                    "summary": "Replace the site's configuration (editor); validated like `touchpoint apply`, alert destinations refused unless public. JSON, or TOML with a toml content type. A masked alert secret sent back keeps the stored one.",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }],
                    "requestBody": { "required": true, "content": { "application/json": {}, "application/toml": {} } },
                    "responses": with(json!({ "200": { "description": "{\"key\", \"changed\"}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
                }
            },
            "/v1/sites": { "post": {
                "summary": "Create a site (a signed-in account, with its CSRF token; not an API token, which belongs to one site). The body is a site file as JSON, or TOML with a toml content type; without `site.key` the server makes one. The account becomes the site's admin; it may administer at most `--sites-per-account` sites (default 20).",
                "security": [{ "session": [] }],
                "requestBody": { "required": true, "content": { "application/json": {}, "application/toml": {} } },
                "responses": with(json!({ "201": { "description": "{\"key\", \"name\", \"role\": \"admin\"}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403", "409"]))
            } },
            "/v1/sites/{key}/draft": {
                "get": {
                    "summary": "The site's draft (editor): changes saved but not live yet, with what publishing would change. `document` is null when there is none.",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }],
                    "responses": with(json!({ "200": { "description": "{\"document\", \"updated_at\", \"updated_by\", \"changes\": [line…]}", "content": { "application/json": {} } } }), error_responses(&["401", "403"]))
                },
                "put": {
                    "summary": "Save a draft (editor): a whole site document, validated like `PUT /site`, kept apart from the live configuration until published. Visitors see nothing of it.",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }],
                    "requestBody": { "required": true, "content": { "application/json": {}, "application/toml": {} } },
                    "responses": with(json!({ "200": { "description": "The draft, as GET answers it", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403"]))
                },
                "delete": {
                    "summary": "Discard the draft (editor).",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }],
                    "responses": with(json!({ "200": { "description": "The draft, now none", "content": { "application/json": {} } } }), error_responses(&["401", "403"]))
                }
            },
            "/v1/sites/{key}/publish": { "post": {
                "summary": "Make the draft live (editor), with the checks of `PUT /site` (lowering the retention needs the admin role and `confirm_purge`); the draft is then gone.",
                "security": [{ "bearer": [] }],
                "parameters": [{ "$ref": "#/components/parameters/key" }, query("confirm_purge", "Events a lower retention deletes, as the 409 counted them.")],
                "responses": with(json!({ "200": { "description": "{\"key\", \"changed\"}", "content": { "application/json": {} } } }), error_responses(&["400", "401", "403", "409"]))
            } },
            "/v1/sites/{key}/deliveries": { "get": {
                "summary": "The alert delivery log (editor): the most recent messages to the site's destinations, newest first, with status, attempts, last error and next attempt.",
                "security": [{ "bearer": [] }],
                "parameters": [key, query("limit", "How many messages, 1 to 500 (50 by default).")],
                "responses": with(json!({ "200": { "description": "Deliveries", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Deliveries" } } } } }), error_responses(&["400", "401", "403"]))
            } },
            "/v1/sites/{key}/export.csv": export("Aggregates as CSV.", "text/csv", true),
            "/v1/sites/{key}/export.ndjson": export("Aggregates as NDJSON.", "application/x-ndjson", true),
            "/v1/sites/{key}/export.xlsx": export("Aggregates as XLSX.", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", true),
            "/v1/sites/{key}/responses.csv": export("Raw responses as CSV.", "text/csv", false),
            "/v1/sites/{key}/responses.ndjson": export("Raw responses as NDJSON.", "application/x-ndjson", false),
            "/v1/sites/{key}/responses.xlsx": export("Raw responses as XLSX.", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false),
            "/v1/sites/{key}/visitors/{visitor}": {
                "get": {
                    "summary": "Everything stored about one visitor (admin).",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }, { "$ref": "#/components/parameters/visitor" }],
                    "responses": with(json!({ "200": { "description": "NDJSON", "content": { "application/x-ndjson": {} } } }), error_responses(&["401", "403"]))
                },
                "delete": {
                    "summary": "Delete everything stored about one visitor (admin).",
                    "security": [{ "bearer": [] }],
                    "parameters": [{ "$ref": "#/components/parameters/key" }, { "$ref": "#/components/parameters/visitor" }],
                    "responses": with(json!({ "200": { "description": "{\"deleted\": n}", "content": { "application/json": {} } } }), error_responses(&["401", "403"]))
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API token from `touchpoint token add`." },
                "metrics": { "type": "http", "scheme": "bearer", "description": "The operator's metrics token (`touchpoint serve --metrics-token`)." },
                "session": { "type": "apiKey", "in": "cookie", "name": "touchpoint_session", "description": "A dashboard session (`POST /v1/session`); changes also send its CSRF token in `X-CSRF-Token`. Every bearer route accepts a session too." }
            },
            "parameters": {
                "key": { "name": "key", "in": "path", "required": true, "description": "The site key.", "schema": { "type": "string" } },
                "visitor": { "name": "visitor", "in": "path", "required": true, "description": "The anonymous visitor id.", "schema": { "type": "string" } },
                "group_by": query("group_by", "Comma-separated: page, stage, touchpoint, day, week, device, locale, attr:KEY (a visitor attribute the site declares in [site] attributes; rows carry it as \"attr:KEY\": value, and count only events that carried it). An attribute does not combine with page, device or locale; one attribute at a time."),
                "from": query("from", "A date (in the site's time zone, inclusive) or an RFC 3339 time (reports: the start of a day there)."),
                "to": query("to", "A date (the whole day included) or an RFC 3339 time (exclusive; reports: the start of a day there)."),
                "page": query("page", "Only this page (path or URL)."),
                "stage": query("stage", "Only this journey stage."),
                "touchpoint": query("touchpoint", "Only this touchpoint."),
                "metric": query("metric", "Only this metric."),
                "device": query("device", "Only this device: desktop, mobile, tablet, or unknown (none given). Aggregates: not with attr:KEY, which is counted apart from devices."),
                "locale": query("locale", "Only this locale (en-GB, de, …), or unknown (none given). Aggregates: not with attr:KEY."),
                "bom": query("bom", "1: start a CSV with a UTF-8 byte-order mark."),
                "flag": query("flag", "Only responses whose comment shows this emotion flag: frustration, delight or confusion."),
                "q": query("q", "Only responses whose comment holds these characters (case-insensitive; at most 200 characters). Raw responses and comments only: aggregate rows keep no comments.")
            },
            "responses": {
                "Error": { "description": "What is wrong, for the client.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } },
                "Accepted": { "type": "object", "required": ["accepted", "duplicates"], "properties": { "accepted": { "type": "integer" }, "duplicates": { "type": "integer" } } },
                "EventBatch": { "type": "object", "required": ["site", "events"], "properties": { "site": { "type": "string" }, "events": { "type": "array", "maxItems": 500, "items": { "$ref": "#/components/schemas/Event" } } } },
                "Deliveries": { "type": "object", "required": ["deliveries"], "properties": { "deliveries": { "type": "array", "items": {
                    "type": "object",
                    "required": ["id", "destination", "host", "kind", "status", "alerts", "attempts", "created_at", "next_attempt_at", "sent_at", "last_status", "last_error"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid", "description": "X-Touchpoint-Delivery, the same on every attempt." },
                        "destination": { "type": "string", "description": "A fingerprint of the destination's URL." },
                        "host": { "type": "string", "description": "The destination's scheme and host." },
                        "kind": { "enum": ["alert", "digest", "test"] },
                        "status": { "enum": ["pending", "sent", "failed", "cancelled"] },
                        "alerts": { "type": "integer" },
                        "attempts": { "type": "integer" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "next_attempt_at": { "type": ["string", "null"], "format": "date-time" },
                        "sent_at": { "type": ["string", "null"], "format": "date-time" },
                        "last_status": { "type": ["integer", "null"] },
                        "last_error": { "type": ["string", "null"] }
                    }
                } } } },
                "Event": {
                    "type": "object",
                    "required": ["id", "kind", "page", "ts"],
                    "additionalProperties": false,
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "kind": { "enum": ["impression", "response", "dismiss", "signal", "outcome"] },
                        "touchpoint": { "type": "string" },
                        "page": { "type": "string", "description": "Full URL; only its path is stored." },
                        "stage": { "type": "string" },
                        "metric": { "enum": ["nps", "csat", "ces", "thumbs", "emoji", "text", "choice"] },
                        "score": { "type": "integer" },
                        "comment": { "type": "string", "maxLength": 2000, "description": "Required for a text response. Resending a response under its id fills in a comment it lacked (a follow-up's answer)." },
                        "choices": { "type": "array", "items": { "type": "string" }, "description": "Option ids of the touchpoint (choice) or of its follow-up; one unless multiple." },
                        "visitor": { "type": "string" },
                        "session": { "type": "string" },
                        "ts": { "type": "string", "format": "date-time" },
                        "locale": { "type": "string" },
                        "device": { "type": "string" },
                        "attributes": { "type": "object", "maxProperties": 20, "additionalProperties": { "type": "string", "maxLength": 64 }, "description": "Visitor attributes (touchpoint('identify', {…})); only the keys the site declares in [site] attributes are kept, masked like any text." },
                        "signal": { "type": "string" },
                        "outcome": { "type": "string", "description": "For kind outcome: the id of one of the site's [[outcome]]s (touchpoint('track', id))." },
                        "gpc": { "type": "boolean" },
                        "consent": { "type": "boolean" }
                    }
                }
            }
        }
    })
}
