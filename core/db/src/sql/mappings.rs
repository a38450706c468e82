//! Mappings of reference codes to a store's own ids.

use super::*;

/// Maps reference codes to a store's own ids (the one path every mapping
/// takes: by hand, CSV import, auto-match); newly mapped variants are queued
/// for a first push.
pub(super) async fn write_mappings(
    conn: &mut Conn,
    store_id: i64,
    store_code: &str,
    mappings: &[Mapping],
) -> Result<()> {
    let codes: Vec<&str> = mappings.iter().map(|m| m.reference_code.as_str()).collect();
    let ids = variants_for_lines(&mut *conn, &codes)
        .await
        .map_err(|e| match e {
            Error::Domain(DomainError::Invalid(errors)) => Error::Domain(DomainError::Invalid(
                errors
                    .into_iter()
                    .map(|mut f| {
                        f.field = f.field.replacen("lines", "", 1);
                        f
                    })
                    .collect(),
            )),
            other => other,
        })?;
    let mut problems = Vec::new();
    for (i, (m, variant)) in mappings.iter().zip(&ids).enumerate() {
        if m.external_id.trim().is_empty() || m.external_id.len() > 128 {
            problems.push(FieldError::new(
                format!("[{i}].external_id"),
                "invalid_external_id",
                "1 to 128 characters",
            ));
            continue;
        }
        fn extra(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        for (field, value) in [
            ("parent_id", &m.parent_id),
            ("inventory_id", &m.inventory_id),
        ] {
            if extra(value).is_some_and(|v| v.len() > 128) {
                problems.push(FieldError::new(
                    format!("[{i}].{field}"),
                    "invalid_external_id",
                    "at most 128 characters",
                ));
            }
        }
        let new = sqlx::query_scalar::<Db, i64>(
            "SELECT COUNT(*) FROM store_mappings WHERE store_id = $1 AND variant_id = $2",
        )
        .bind(store_id)
        .bind(variant)
        .fetch_one(&mut *conn)
        .await?
            == 0;
        let r = sqlx::query::<Db>(
            "INSERT INTO store_mappings (store_id, variant_id, external_id, parent_id, inventory_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_id, variant_id) DO UPDATE SET \
             external_id = excluded.external_id, parent_id = excluded.parent_id, inventory_id = excluded.inventory_id",
        )
        .bind(store_id)
        .bind(variant)
        .bind(m.external_id.trim())
        .bind(extra(&m.parent_id))
        .bind(extra(&m.inventory_id))
        .execute(&mut *conn)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(DomainError::conflict(
                    "external_id_taken",
                    format!(
                        "external id `{}` is already mapped to another variant of {store_code}",
                        m.external_id
                    ),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        }
        if new {
            // A newly mapped variant gets its first levels and price.
            for LocationRef { id: location, .. } in store_locations(&mut *conn, store_id).await? {
                enqueue_stock(&mut *conn, *variant, location).await?;
            }
            enqueue_price(&mut *conn, *variant).await?;
        }
    }
    if !problems.is_empty() {
        return Err(DomainError::Invalid(problems).into());
    }
    Ok(())
}

#[async_trait]
impl crate::Mappings for Backend {
    async fn put_mappings(&self, store_code: &str, mappings: &[Mapping]) -> Result<Vec<Mapping>> {
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        write_mappings(&mut tx, store.id, store_code, mappings).await?;
        tx.commit().await?;
        self.list_mappings(store_code).await
    }

    async fn list_mappings(&self, store_code: &str) -> Result<Vec<Mapping>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let rows = sqlx::query_as::<Db, (i64, String, String, Option<String>, Option<String>)>(
            "SELECT v.id, v.reference_code, m.external_id, m.parent_id, m.inventory_id FROM store_mappings m \
             JOIN variants v ON v.id = m.variant_id WHERE m.store_id = $1 ORDER BY v.id",
        )
        .bind(store.id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(variant_id, code, external_id, parent_id, inventory_id)| {
                Ok(Mapping {
                    reference_code: stored_code("variants", variant_id, "reference_code", &code)?,
                    external_id,
                    parent_id,
                    inventory_id,
                })
            })
            .collect()
    }

    async fn import_mappings(
        &self,
        store_code: &str,
        rows: &[Mapping],
    ) -> Result<Vec<Result<(), DomainError>>> {
        import_mapping_rows(self, store_code, rows).await
    }

    async fn auto_match(
        &self,
        store_code: &str,
        request: &AutoMatchRequest,
    ) -> Result<AutoMatchAnswer> {
        auto_match_mappings(self, store_code, request).await
    }

    async fn record_catalog_hint(&self, store_id: i64, hint: &Candidate) -> Result<()> {
        remember_hint(self, store_id, hint).await
    }
}
