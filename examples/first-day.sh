#!/usr/bin/env bash
# A merchant's first day against a running hub, with curl and the admin API:
# two locations, a matrix item (3 colours x 2 sizes -> 6 reference codes),
# stock, an online store and its API key, then the store's three calls and
# the merchant billing and delivering the order.
#
#   POSHUB_ADMIN_TOKEN=secret poshub serve --database sqlite://first-day.db &
#   POSHUB_ADMIN_TOKEN=secret examples/first-day.sh http://127.0.0.1:8080
set -euo pipefail
HUB=${1:-http://127.0.0.1:8080}
ADMIN="Authorization: Bearer ${POSHUB_ADMIN_TOKEN:?set POSHUB_ADMIN_TOKEN to the hub\'s admin token}"
JSON="Content-Type: application/json"
say() { printf '\n== %s\n' "$*"; }
post() { curl -sS --fail-with-body -X POST -H "$1" -H "$JSON" "$HUB$2" -d "$3"; echo; }

say "locations"
post "$ADMIN" /admin/v1/locations '{"code": "BLR", "name": "Bengaluru store"}'
post "$ADMIN" /admin/v1/locations '{"code": "MUM", "name": "Mumbai warehouse"}'

say "a matrix item: reference codes generated from the template"
post "$ADMIN" /admin/v1/items '{"item_code": "TOY", "name": "Toy car", "tax_rate": "12", "mrp": "300.00",
  "attributes": [{"name": "color", "values": ["Red", "Green", "Blue"]}, {"name": "size", "values": ["S", "M"]}],
  "reference_code_template": "{item_code}-{color}-{size}"}'

say "stock inward (sets the selling price)"
post "$ADMIN" /admin/v1/stock/inward '{"location": "BLR", "lines": [
  {"reference_code": "TOY-Red-S", "quantity": "10", "cost": "150.00", "price": "250.00"},
  {"reference_code": "TOY-Blue-M", "quantity": "4", "cost": "150.00", "price": "250.00"}]}'

say "an online store and its API key"
post "$ADMIN" /admin/v1/stores '{"code": "WEB", "name": "Web shop", "connector": "canonical",
  "locations": ["BLR", "MUM"], "payment_types": ["prepaid", "cod"], "allow_backorder": false, "prices_include_tax": true}'
KEY=$(post "$ADMIN" /admin/v1/stores/WEB/api-users '{"name": "web app", "locations": ["BLR"]}' \
  | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
STORE="Authorization: Bearer $KEY"

say "the store reads items with price and stock"
curl -sS --fail-with-body -H "$STORE" "$HUB/api/v1/items?location=BLR&limit=2"; echo

say "the store posts a sales order (pay on delivery)"
ORDER=$(post "$STORE" /api/v1/sales-orders '{"online_reference_no": "WEB-1001",
  "customer": {"name": "Asha Rao", "phone": "98450 12345"},
  "lines": [{"reference_code": "TOY-Red-S", "quantity": "2", "unit_price": "250.00"}],
  "payments": [{"type": "cod", "amount": "500.00"}], "total": "500.00"}')
echo "$ORDER"
ID=$(printf '%s' "$ORDER" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')

say "the merchant bills and delivers it"
post "$ADMIN" "/admin/v1/sales-orders/$ID/bill" '{"payment_type": "cod"}'
post "$ADMIN" "/admin/v1/sales-orders/$ID/deliver" '{}'

say "the store reads the status"
curl -sS --fail-with-body -H "$STORE" "$HUB/api/v1/sales-orders/$ID"; echo
