//! Bulk tools, compiled into each backend's `sql` tree (they use its
//! helpers): reference codes regenerated in bulk, mappings imported
//! row by row, auto-match by SKU and the storefront catalogue hints it draws
//! on. The rules live in `poshub_model::{codegen, automatch}`; this file
//! looks things up and writes the outcome.

use super::*;
/// Rows per `IN (...)` list.
pub(super) const CHUNK: usize = 500;

/// A code no variant can hold (codes never contain `#`): where a variant's
/// code waits while codes swap.
pub(super) fn parked_code(variant_id: i64) -> String {
    format!("#bulk#{variant_id}")
}

/// The items a generation covers (locked when applying), with their variants.
pub(super) async fn items_for_generation(
    conn: &mut Conn,
    request: &CodeGeneration,
    lock: bool,
) -> Result<Vec<(i64, StoredItem)>> {
    let lock = if lock { DIALECT.for_update } else { "" };
    let rows: Vec<(i64, String, Json<Vec<AttributeDim>>)> = match &request.items {
        None => {
            let all = sqlx::query_as::<Db, (i64, String, Json<Vec<AttributeDim>>)>(&format!(
                "SELECT id, item_code, attributes FROM items ORDER BY item_code{lock}"
            ))
            .fetch_all(&mut *conn)
            .await?;
            all.into_iter()
                .filter(|(_, _, a)| !a.0.is_empty())
                .collect()
        }
        Some(codes) => {
            let mut found = Vec::new();
            for chunk in codes.chunks(CHUNK) {
                let sql = format!(
                    "SELECT id, item_code, attributes FROM items WHERE item_code IN ({}) ORDER BY item_code{lock}",
                    placeholders(0, chunk.len())
                );
                let mut q = sqlx::query_as::<Db, (i64, String, Json<Vec<AttributeDim>>)>(&sql);
                for c in chunk {
                    q = q.bind(c.as_str());
                }
                found.extend(q.fetch_all(&mut *conn).await?);
            }
            let problems: Vec<FieldError> = codes
                .iter()
                .enumerate()
                .filter(|(_, c)| !found.iter().any(|(_, code, _)| code == c.as_str()))
                .map(|(i, c)| {
                    FieldError::new(
                        format!("items[{i}]"),
                        "unknown_item",
                        format!("no item has code `{c}`"),
                    )
                })
                .collect();
            if !problems.is_empty() {
                return Err(DomainError::Invalid(problems).into());
            }
            found.sort_by(|a, b| a.1.cmp(&b.1));
            found.dedup_by_key(|r| r.0);
            found
        }
    };
    let mut variants: HashMap<i64, Vec<StoredVariant>> = HashMap::new();
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT item_id, id, reference_code, attributes FROM variants WHERE item_id IN ({}) ORDER BY id",
            placeholders(0, chunk.len())
        );
        let mut q = sqlx::query_as::<Db, (i64, i64, String, Json<Attributes>)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for (item_id, id, reference_code, attributes) in q.fetch_all(&mut *conn).await? {
            variants.entry(item_id).or_default().push(StoredVariant {
                id,
                reference_code,
                attributes: attributes.0,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|(id, item_code, attributes)| {
            let item = StoredItem {
                item_code,
                attributes: attributes.0,
                variants: variants.remove(&id).unwrap_or_default(),
            };
            (id, item)
        })
        .collect())
}

/// The variants holding any of `codes` today.
pub(super) async fn code_holders(conn: &mut Conn, codes: &[&str]) -> Result<Vec<CodeHolder>> {
    let mut out = Vec::new();
    for chunk in codes.chunks(CHUNK) {
        let sql = format!(
            "SELECT v.id, i.item_code, v.attributes, v.reference_code FROM variants v \
             JOIN items i ON i.id = v.item_id WHERE v.reference_code IN ({})",
            placeholders(0, chunk.len())
        );
        let mut q = sqlx::query_as::<Db, (i64, String, Json<Attributes>, String)>(&sql);
        for c in chunk {
            q = q.bind(*c);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(
            |(variant_id, item_code, attributes, reference_code)| CodeHolder {
                variant_id,
                item_code,
                attributes: attributes.0,
                reference_code,
            },
        ));
    }
    Ok(out)
}

pub(super) async fn plan_codes(
    conn: &mut Conn,
    request: &CodeGeneration,
    lock: bool,
) -> Result<(Vec<i64>, CodePlan)> {
    let items = items_for_generation(conn, request, lock).await?;
    let stored: Vec<StoredItem> = items.iter().map(|(_, item)| item.clone()).collect();
    let mut plan = CodePlan::draft(&request.template, &stored)?;
    let holders = code_holders(conn, &plan.new_codes()).await?;
    plan.check(&holders);
    Ok((items.into_iter().map(|(id, _)| id).collect(), plan))
}

/// Writes a collision-free plan: every changed variant is parked first, so
/// that codes may move between variants of the plan.
pub(super) async fn write_codes(conn: &mut Conn, item_ids: &[i64], plan: &CodePlan) -> Result<()> {
    let writes = plan.writes();
    for (id, _) in &writes {
        sqlx::query::<Db>("UPDATE variants SET reference_code = $1 WHERE id = $2")
            .bind(parked_code(*id))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let at = now();
    for (id, code) in &writes {
        let r = sqlx::query::<Db>(
            "UPDATE variants SET reference_code = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(*code)
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await;
        match r {
            Ok(_) => {}
            // Another request took the code since the plan was checked.
            Err(e) if is_unique_violation(&e) => {
                return Err(DomainError::conflict(
                    "reference_code_collision",
                    format!("reference code `{code}` was taken meanwhile; nothing was changed"),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        }
    }
    for id in item_ids {
        sqlx::query::<Db>("UPDATE items SET reference_code_template = $1 WHERE id = $2")
            .bind(&plan.template)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn generate_codes(db: &Backend, request: &CodeGeneration) -> Result<CodePlan> {
    if !request.apply {
        let mut conn = db.read.acquire().await?;
        return Ok(plan_codes(&mut conn, request, false).await?.1);
    }
    let mut tx = db.write.begin().await?;
    let (item_ids, mut plan) = plan_codes(&mut tx, request, true).await?;
    if plan.collisions.is_empty() {
        write_codes(&mut tx, &item_ids, &plan).await?;
        tx.commit().await?;
        plan.applied = true;
    }
    Ok(plan)
}

/// Each mapping in its own transaction, through the same path as
/// `put_mappings`.
pub(super) async fn import_mapping_rows(
    db: &Backend,
    store_code: &str,
    rows: &[Mapping],
) -> Result<Vec<Result<(), DomainError>>> {
    let store_id = {
        let mut conn = db.read.acquire().await?;
        store_row(&mut conn, store_code).await?.id
    };
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let mut tx = db.write.begin().await?;
        match write_mappings(&mut tx, store_id, store_code, std::slice::from_ref(m)).await {
            Ok(()) => {
                tx.commit().await?;
                out.push(Ok(()));
            }
            // Dropping the transaction rolls the row back.
            Err(Error::Domain(e)) => out.push(Err(e)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

pub(super) async fn catalog_hints(conn: &mut Conn, store_id: i64) -> Result<Vec<Candidate>> {
    let rows = sqlx::query_as::<Db, (String, String, Option<String>, Option<String>)>(
        "SELECT sku, external_id, parent_id, inventory_id FROM store_catalog_hints \
         WHERE store_id = $1 ORDER BY sku, external_id",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, external_id, parent_id, inventory_id)| Candidate {
            sku,
            external_id,
            parent_id,
            inventory_id,
        })
        .collect())
}

/// What the catalogue and the store's mappings say about the candidates.
pub(super) async fn match_facts(
    conn: &mut Conn,
    store_id: i64,
    candidates: &[Candidate],
) -> Result<(HashMap<String, SkuFacts>, HashMap<String, String>)> {
    let mut skus: Vec<&str> = candidates.iter().map(|c| c.sku.trim()).collect();
    skus.sort_unstable();
    skus.dedup();
    let mut facts = HashMap::new();
    for chunk in skus.chunks(CHUNK) {
        let sql = format!(
            "SELECT v.reference_code, m.external_id FROM variants v \
             LEFT JOIN store_mappings m ON m.variant_id = v.id AND m.store_id = $1 \
             WHERE v.reference_code IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<Db, (String, Option<String>)>(&sql).bind(store_id);
        for s in chunk {
            q = q.bind(*s);
        }
        for (code, mapped_to) in q.fetch_all(&mut *conn).await? {
            facts.insert(code, SkuFacts { mapped_to });
        }
    }
    let mut ids: Vec<&str> = candidates.iter().map(|c| c.external_id.trim()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut external = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT m.external_id, v.reference_code FROM store_mappings m \
             JOIN variants v ON v.id = m.variant_id WHERE m.store_id = $1 AND m.external_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<Db, (String, String)>(&sql).bind(store_id);
        for id in chunk {
            q = q.bind(*id);
        }
        external.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok((facts, external))
}

pub(super) async fn plan_match(
    conn: &mut Conn,
    store_code: &str,
    request: &AutoMatchRequest,
) -> Result<(i64, AutoMatchAnswer)> {
    let store_id = store_row(&mut *conn, store_code).await?.id;
    let (source, candidates) = match &request.candidates {
        Some(given) => ("candidates", given.clone()),
        None => ("hints", catalog_hints(&mut *conn, store_id).await?),
    };
    let (skus, external) = match_facts(&mut *conn, store_id, &candidates).await?;
    let rows = poshub_model::automatch::auto_match(&candidates, &skus, &external);
    let answer = AutoMatchAnswer {
        source: source.to_string(),
        matched: rows
            .iter()
            .filter(|r| r.result == MatchResult::Matched)
            .count(),
        applied: false,
        candidates: rows,
    };
    Ok((store_id, answer))
}

pub(super) async fn auto_match_mappings(
    db: &Backend,
    store_code: &str,
    request: &AutoMatchRequest,
) -> Result<AutoMatchAnswer> {
    if !request.apply {
        let mut conn = db.read.acquire().await?;
        return Ok(plan_match(&mut conn, store_code, request).await?.1);
    }
    let mut tx = db.write.begin().await?;
    let (store_id, mut answer) = plan_match(&mut tx, store_code, request).await?;
    let mappings = poshub_model::automatch::mappings(&answer.candidates);
    write_mappings(&mut tx, store_id, store_code, &mappings).await?;
    tx.commit().await?;
    answer.applied = true;
    Ok(answer)
}

pub(super) async fn remember_hint(db: &Backend, store_id: i64, hint: &Candidate) -> Result<()> {
    sqlx::query::<Db>(
        "INSERT INTO store_catalog_hints (store_id, external_id, sku, parent_id, inventory_id, seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (store_id, external_id) DO UPDATE SET \
         sku = excluded.sku, parent_id = COALESCE(excluded.parent_id, store_catalog_hints.parent_id), \
         inventory_id = COALESCE(excluded.inventory_id, store_catalog_hints.inventory_id), seen_at = excluded.seen_at",
    )
    .bind(store_id)
    .bind(&hint.external_id)
    .bind(&hint.sku)
    .bind(&hint.parent_id)
    .bind(&hint.inventory_id)
    .bind(now())
    .execute(&db.write)
    .await?;
    Ok(())
}
