//! Query strings of the dialect's list calls, in canonical terms.
//!
//! `GET /items?locationId=BLR&q=itemTimeStamp>=2026-11-01+00:00:00&limit=100&cursor=..`
//! and `GET /salesOrders?q=createdAt>=..&status=Pending&limit=..&cursor=..`.
//! Values are URL-decoded (`+` is a space). An empty value counts as absent;
//! a parameter the dialect does not know is ignored; one it knows, given
//! twice, is refused. Paging is by cursor: `page` is accepted only as `1`.

use poshub_connector_sdk::{ItemQuery, OrderQuery, OrderStatus};

use crate::failure::{Failure, Problems};
use crate::time::{Instant, Offset};

/// Most rows one page may carry.
pub const MAX_LIMIT: u32 = 500;

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Params, Failure> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name).ok_or_else(|| bad_encoding(name))?;
            let value = decode(value).ok_or_else(|| bad_encoding(part))?;
            pairs.push((name, value));
        }
        Ok(Params(pairs))
    }

    /// The value of `name` (empty counts as absent); a problem when given twice.
    pub fn get(&self, name: &str, problems: &mut Problems) -> Option<&str> {
        let mut found = self
            .0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim());
        let first = found.next();
        if found.next().is_some() {
            problems.push(name, "duplicate_parameter", "give this parameter once");
            return None;
        }
        first
    }
}

fn bad_encoding(part: &str) -> Failure {
    Failure::field(
        "query",
        "invalid_query",
        format!("`{part}` is not URL-encoded UTF-8"),
    )
}

/// URL-decodes one name or value: `%XX` escapes and `+` for a space.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `GET /items` as a canonical item query.
pub fn item_query(params: &Params, offset: Offset) -> Result<ItemQuery, Failure> {
    let mut problems = Problems::default();
    let location = params.get("locationId", &mut problems).map(str::to_string);
    let since = since(params, "itemTimeStamp", offset, &mut problems);
    let limit = limit(params, Above::Cap, &mut problems);
    let cursor = params.get("cursor", &mut problems).map(str::to_string);
    first_page_only(params, &mut problems);
    problems.into_result("the query")?;
    Ok(ItemQuery {
        location,
        updated_since: since.and_then(|s| s.rfc3339(offset)),
        limit,
        cursor,
    })
}

/// `GET /salesOrders` as a canonical order query. The hub filters on the
/// time of the last update, a superset of `createdAt>=`; the list's
/// rendering drops the orders created before the bound.
pub fn order_query(params: &Params, offset: Offset) -> Result<OrderQuery, Failure> {
    let mut problems = Problems::default();
    let since = since(params, "createdAt", offset, &mut problems);
    let status = status(params, &mut problems);
    let limit = limit(params, Above::Refuse, &mut problems);
    let cursor = params.get("cursor", &mut problems).map(str::to_string);
    first_page_only(params, &mut problems);
    problems.into_result("the query")?;
    Ok(OrderQuery {
        status,
        updated_since: since.and_then(|s| s.rfc3339(offset)),
        limit,
        cursor,
    })
}

/// The `createdAt>=` bound of a sales order list, if the query has one.
pub fn created_since(params: &Params, offset: Offset) -> Option<Instant> {
    since(params, "createdAt", offset, &mut Problems::default())
}

/// The id of `GET /salesOrders?id=..`, if given.
pub fn order_id_param(params: &Params) -> Result<Option<i64>, Failure> {
    let mut problems = Problems::default();
    let raw = params.get("id", &mut problems);
    problems.into_result("the query")?;
    raw.map(|raw| order_id(raw, "id")).transpose()
}

/// A hub order id: a positive whole number.
pub fn order_id(raw: &str, field: &str) -> Result<i64, Failure> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        Failure::field(
            field,
            "invalid_id",
            format!("`{raw}` is not a sales order id (a positive whole number)"),
        )
    })
}

/// `q=FIELD>=yyyy-MM-dd HH:mm:ss` (the vendor format at `offset`, or RFC 3339).
fn since(params: &Params, field: &str, offset: Offset, p: &mut Problems) -> Option<Instant> {
    let q = params.get("q", p)?;
    let expected = format!("use q={field}>=yyyy-MM-dd HH:mm:ss");
    let Some((name, value)) = q.split_once(">=") else {
        p.push("q", "invalid_filter", format!("`{q}`: {expected}"));
        return None;
    };
    if !name.trim().eq_ignore_ascii_case(field) {
        let name = name.trim();
        p.push(
            "q",
            "invalid_filter",
            format!("cannot filter on `{name}`: {expected}"),
        );
        return None;
    }
    let value = value.trim();
    let instant = Instant::parse_vendor(value, offset).or_else(|| Instant::parse_rfc3339(value));
    if instant.is_none() {
        p.push(
            "q",
            "invalid_date",
            format!("`{value}` is not a date and time such as 2026-11-01 00:00:00"),
        );
    }
    instant
}

/// Pages are followed with `cursor`; `page=1` is the first page, and a
/// later page number is refused rather than answered with the first page
/// again (which would loop a storefront that counts pages forever).
fn first_page_only(params: &Params, p: &mut Problems) {
    if let Some(page) = params.get("page", p).filter(|page| *page != "1") {
        p.push(
            "page",
            "use_cursor",
            format!("page `{page}` cannot be served: follow nextCursor with cursor=... instead"),
        );
    }
}

/// What a `limit` above [`MAX_LIMIT`] gets.
#[derive(Clone, Copy, PartialEq)]
enum Above {
    /// A page of [`MAX_LIMIT`]: vendor clients ask for `limit=10000` (or
    /// `200000`) of items to get "all", and page on by cursor.
    Cap,
    /// Refused (`invalid_limit`).
    Refuse,
}

fn limit(params: &Params, above: Above, p: &mut Problems) -> Option<u32> {
    let raw = params.get("limit", p)?;
    let whole = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u32>() {
        Ok(n @ 1..=MAX_LIMIT) => Some(n),
        // What is left of the whole numbers is 0 or above the maximum
        // (even beyond u32).
        _ if above == Above::Cap && whole && raw.bytes().any(|b| b != b'0') => Some(MAX_LIMIT),
        _ => {
            p.push(
                "limit",
                "invalid_limit",
                format!("`{raw}` is out of range; use 1 to {MAX_LIMIT}"),
            );
            None
        }
    }
}

fn status(params: &Params, p: &mut Problems) -> Option<OrderStatus> {
    let raw = params.get("status", p)?;
    let status = match raw.to_ascii_lowercase().as_str() {
        "pending" => OrderStatus::Pending,
        "billed" => OrderStatus::Billed,
        "ready" => OrderStatus::Ready,
        "shipped" => OrderStatus::Shipped,
        "outfordelivery" => OrderStatus::OutForDelivery,
        "delivered" => OrderStatus::Delivered,
        "cancelled" => OrderStatus::Cancelled,
        "returned" => OrderStatus::Returned,
        "partiallyreturned" => OrderStatus::PartiallyReturned,
        _ => {
            p.push(
                "status",
                "invalid_status",
                format!(
                    "`{raw}` is not a status; use Pending, Billed, Ready, Shipped, OutForDelivery, \
                     Delivered, Cancelled, Returned or PartiallyReturned"
                ),
            );
            return None;
        }
    };
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items_limit(query: &str) -> Result<Option<u32>, Failure> {
        item_query(&Params::parse(query)?, crate::time::DEFAULT_OFFSET).map(|q| q.limit)
    }

    #[test]
    fn an_items_limit_above_the_maximum_is_the_maximum() {
        for (query, limit) in [
            ("limit=1", Some(1)),
            ("limit=500", Some(500)),
            ("limit=501", Some(500)),
            ("limit=10000", Some(500)),
            ("limit=200000", Some(500)),
            ("limit=99999999999999999999", Some(500)),
            ("", None),
        ] {
            assert_eq!(items_limit(query).unwrap(), limit, "{query}");
        }
        for bad in ["limit=0", "limit=000", "limit=-5", "limit=ten", "limit=1.5"] {
            let failure = items_limit(bad).unwrap_err();
            assert_eq!(failure.code, "invalid_limit", "{bad}");
        }
        // Orders keep refusing it.
        let orders = order_query(
            &Params::parse("limit=501").unwrap(),
            crate::time::DEFAULT_OFFSET,
        );
        assert_eq!(orders.unwrap_err().code, "invalid_limit");
    }

    #[test]
    fn decodes_plus_and_percent() {
        assert_eq!(
            decode("createdAt%3E%3D2026-11-01+00%3A00%3A00").as_deref(),
            Some("createdAt>=2026-11-01 00:00:00")
        );
        assert_eq!(decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(decode("bad%4"), None);
        assert_eq!(decode("bad%zz"), None);
        assert_eq!(decode("%FF"), None);
    }
}
