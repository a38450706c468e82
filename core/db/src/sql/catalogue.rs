//! Locations, location groups, items and their variants, the catalogue page a key sees.

use super::*;

pub(super) async fn location_by_code(conn: &mut Conn, code: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar::<Db, i64>("SELECT id FROM locations WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The id of the location a request's `location` field names (422 if none).
/// Database errors stay database errors.
pub(super) async fn location_field(conn: &mut Conn, code: &str) -> Result<i64> {
    location_by_code(conn, code).await?.ok_or_else(|| {
        DomainError::invalid(
            "location",
            "unknown_location",
            format!("no location has code `{code}`"),
        )
        .into()
    })
}

/// Resolves location codes for a request field, collecting unknown ones.
pub(super) async fn locations_for(
    conn: &mut Conn,
    field: &str,
    codes: &[impl AsRef<str>],
) -> Result<Vec<LocationRef>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let code = code.as_ref();
        match location_by_code(conn, code).await? {
            Some(id) => found.push(LocationRef::new(id, code)),
            None => problems.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_location",
                format!("no location has code `{code}`"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

/// Looks up the catalogue entry of each reference code (None: unknown).
pub(super) async fn catalog_entries(
    conn: &mut Conn,
    codes: &[&str],
) -> Result<Vec<Option<CatalogEntry>>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let found: HashMap<String, CatalogEntry> = setwise::variants_by_code(conn, codes)
        .await?
        .into_iter()
        .map(|(id, code, item_code, rate)| {
            (
                code,
                CatalogEntry {
                    variant_id: id,
                    item_code,
                    tax_rate: Rate::from_stored(rate.0),
                },
            )
        })
        .collect();
    Ok(codes.iter().map(|c| found.get(*c).cloned()).collect())
}

/// Variant ids for the reference codes of request lines, or a 422 naming
/// every unknown code.
pub(super) async fn variants_for_lines(conn: &mut Conn, codes: &[&str]) -> Result<Vec<i64>> {
    let entries = catalog_entries(conn, codes).await?;
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for (i, (e, code)) in entries.iter().zip(codes).enumerate() {
        match e {
            Some(e) => ids.push(e.variant_id),
            None => problems.push(FieldError::new(
                format!("lines[{i}].reference_code"),
                "unknown_reference_code",
                format!("no variant has reference code `{code}`"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(ids)
    } else {
        Err(DomainError::Invalid(problems).into())
    }
}

pub(super) async fn load_item(conn: &mut Conn, item_code: &str) -> Result<Item> {
    let item = sqlx::query_as::<Db, ItemRow>(
        "SELECT id, item_code, name, unit, tax_rate, mrp, attributes, reference_code_template, created_at \
         FROM items WHERE item_code = $1",
    )
    .bind(item_code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("item", item_code))?;
    let variants = sqlx::query_as::<Db, VariantRow>(
        "SELECT reference_code, attributes, price, updated_at FROM variants WHERE item_id = $1 ORDER BY id",
    )
    .bind(item.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Item {
        item_code: item.item_code,
        name: item.name,
        unit: item.unit,
        tax_rate: Rate::from_stored(item.tax_rate.0),
        mrp: item.mrp.map(|d| Amount::from_stored(d.0)),
        attributes: item.attributes.0,
        reference_code_template: item.reference_code_template,
        variants: variants
            .into_iter()
            .map(|v| Variant {
                reference_code: v.reference_code,
                attributes: v.attributes.0,
                price: v.price.map(|d| Amount::from_stored(d.0)),
                updated_at: v.updated_at,
            })
            .collect(),
        created_at: item.created_at,
    })
}

#[async_trait]
impl crate::Catalogue for Backend {
    async fn create_location(&self, location: &Location) -> Result<Location> {
        location.check()?;
        let r =
            sqlx::query::<Db>("INSERT INTO locations (code, name, created_at) VALUES ($1, $2, $3)")
                .bind(location.code.as_str())
                .bind(&location.name)
                .bind(now())
                .execute(&self.write)
                .await;
        match r {
            Ok(_) => Ok(location.clone()),
            Err(e) if is_unique_violation(&e) => Err(DomainError::conflict(
                "duplicate_location",
                format!("location `{}` already exists", location.code),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        let rows = sqlx::query_as::<Db, (i64, String, String)>(
            "SELECT id, code, name FROM locations ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, code, name)| {
                Ok(Location {
                    code: stored_code("locations", id, "code", &code)?,
                    name,
                })
            })
            .collect()
    }

    async fn create_location_group(&self, group: &LocationGroup) -> Result<LocationGroup> {
        group.check()?;
        let mut tx = self.write.begin().await?;
        let members = locations_for(&mut tx, "locations", &group.locations).await?;
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO location_groups (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(group.code.as_str())
        .bind(&group.name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_on_unique(e, "duplicate_location_group", || {
                format!("location group `{}` already exists", group.code)
            })
        })?;
        for (pos, LocationRef { id: loc, code }) in members.iter().enumerate() {
            sqlx::query::<Db>("INSERT INTO location_group_members (group_id, location_id, position) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(loc)
                .bind(pos as i64)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        DomainError::invalid("locations", "duplicate_location", format!("`{code}` is listed twice")).into()
                    } else {
                        Error::from(e)
                    }
                })?;
        }
        tx.commit().await?;
        Ok(group.clone())
    }

    async fn list_location_groups(&self) -> Result<Vec<LocationGroup>> {
        let rows = sqlx::query_as::<Db, (i64, String, String, i64, String)>(
            "SELECT g.id, g.code, g.name, l.id, l.code FROM location_groups g \
             JOIN location_group_members m ON m.group_id = g.id JOIN locations l ON l.id = m.location_id \
             ORDER BY g.code, m.position",
        )
        .fetch_all(&self.read)
        .await?;
        let mut groups: Vec<LocationGroup> = Vec::new();
        for (group_id, code, name, loc_id, loc) in rows {
            let code = stored_code("location_groups", group_id, "code", &code)?;
            let loc = stored_code("locations", loc_id, "code", &loc)?;
            match groups.last_mut() {
                Some(g) if g.code == code => g.locations.push(loc),
                _ => groups.push(LocationGroup {
                    code,
                    name,
                    locations: vec![loc],
                }),
            }
        }
        Ok(groups)
    }

    async fn create_item(&self, item: &NewItem, variants: &[NewVariant]) -> Result<Item> {
        let mut tx = self.write.begin().await?;
        let exists = sqlx::query_scalar::<Db, i64>("SELECT id FROM items WHERE item_code = $1")
            .bind(item.item_code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(DomainError::conflict(
                "duplicate_item_code",
                format!("item `{}` already exists", item.item_code),
            )
            .into());
        }
        let codes: Vec<&str> = variants.iter().map(|v| v.reference_code.as_str()).collect();
        let mut taken = Vec::new();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT reference_code FROM variants WHERE reference_code IN ({})",
                placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_scalar::<Db, String>(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            taken.extend(q.fetch_all(&mut *tx).await?);
        }
        if !taken.is_empty() {
            taken.truncate(10);
            return Err(DomainError::conflict(
                "reference_code_taken",
                format!(
                    "reference code(s) already used by other variants: {}",
                    taken.join(", ")
                ),
            )
            .into());
        }
        let at = now();
        let item_id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO items (item_code, name, unit, tax_rate, mrp, attributes, reference_code_template, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(item.item_code.as_str())
        .bind(item.name.trim())
        .bind(&item.unit)
        .bind(Dec(item.tax_rate.unwrap_or(Rate::ZERO).value()))
        .bind(item.mrp.map(|m| Dec(m.value())))
        .bind(Json(&item.attributes))
        .bind(&item.reference_code_template)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_item_code", || format!("item `{}` already exists", item.item_code)))?;
        for v in variants {
            sqlx::query::<Db>(
                "INSERT INTO variants (item_id, reference_code, attributes, price, updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(item_id)
            .bind(v.reference_code.as_str())
            .bind(Json(&v.attributes))
            .bind(item.price.map(|p| Dec(p.value())))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        let created = load_item(&mut tx, item.item_code.as_str()).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_item(&self, item_code: &str) -> Result<Item> {
        let mut conn = self.read.acquire().await?;
        load_item(&mut conn, item_code).await
    }

    async fn list_catalog(&self, query: &CatalogQuery) -> Result<Vec<CatalogRow>> {
        let mut conn = self.read.acquire().await?;
        // Each variant's balances come with it, folded into one column
        // (`location:on_hand:reserved,...`): a page is one row per variant,
        // not one per variant and location (rows cross a thread one by one
        // in sqlx-sqlite, and 3,000 of them per page of 500 made the items
        // page mostly context switches).
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT v.id, v.reference_code, v.attributes, v.price, v.updated_at, i.item_code, i.name, i.unit, \
             i.tax_rate, i.mrp, \
             (SELECT string_agg(b.location_id || ':' || b.on_hand || ':' || b.reserved, ',') \
              FROM stock_balances b WHERE b.variant_id = v.id) AS stock \
             FROM variants v JOIN items i ON i.id = v.item_id WHERE v.id > ",
        );
        qb.push_bind(query.after_id.unwrap_or(0));
        if let Some(since) = query.updated_since {
            qb.push(" AND v.updated_at >= ").push_bind(since);
        }
        qb.push(" ORDER BY v.id LIMIT ")
            .push_bind(i64::from(query.limit));
        let variants: Vec<CatalogVariantRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        variants
            .into_iter()
            .map(|v| {
                let available = folded_balances(v.stock.as_deref().unwrap_or(""))?;
                Ok(CatalogRow {
                    locations: query
                        .locations
                        .iter()
                        .map(|location| {
                            let here = available.iter().find(|(l, _)| *l == location.id);
                            (
                                location.code.clone(),
                                here.map(|(_, a)| *a).unwrap_or_default(),
                            )
                        })
                        .collect(),
                    variant_id: v.id,
                    item_code: v.item_code,
                    name: v.name,
                    unit: v.unit,
                    reference_code: v.reference_code,
                    attributes: v.attributes.0,
                    price: v.price.map(|d| d.0),
                    price_source: v.price.map(|_| LAST_INWARD.to_string()),
                    mrp: v.mrp.map(|d| d.0),
                    tax_rate: v.tax_rate.0,
                    updated_at: v.updated_at,
                })
            })
            .collect()
    }

    // Bulk tools: bulk_ops.rs.
    async fn generate_reference_codes(&self, request: &CodeGeneration) -> Result<CodePlan> {
        generate_codes(self, request).await
    }
}
