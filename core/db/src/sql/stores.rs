//! Stores, their API keys and locations, and the connector events recorded against them.

use super::*;

pub(super) async fn store_row(conn: &mut Conn, code: &str) -> Result<StoreRow> {
    Ok(sqlx::query_as::<Db, StoreRow>(&format!(
        "SELECT s.id, s.code, s.name, s.connector, s.config, s.payment_types, s.allow_backorder, \
         s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, s.created_at \
         FROM stores s WHERE s.code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| DomainError::not_found("store", code))?)
}

pub(super) async fn store_locations(conn: &mut Conn, store_id: i64) -> Result<Vec<LocationRef>> {
    Ok(sqlx::query_as::<Db, (i64, String)>(
        "SELECT l.id, l.code FROM store_locations sl JOIN locations l ON l.id = sl.location_id \
         WHERE sl.store_id = $1 ORDER BY l.code",
    )
    .bind(store_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, code)| LocationRef::new(id, code))
    .collect())
}

pub(super) async fn load_store(conn: &mut Conn, code: &str) -> Result<Store> {
    let row = store_row(conn, code).await?;
    let locations = store_locations(conn, row.id).await?;
    Ok(Store {
        code: row.code,
        name: row.name,
        connector: row.connector,
        config: row.config.0,
        locations: locations.into_iter().map(|l| l.code).collect(),
        payment_types: row.payment_types.0,
        allow_backorder: row.allow_backorder,
        prices_include_tax: row.prices_include_tax,
        currency: stored_currency(&row.currency)?,
        accept_test_orders: row.accept_test_orders,
        enabled: row.enabled,
        channel: channel(conn, row.id).await?.settings(),
        created_at: row.created_at,
    })
}

pub(super) async fn load_api_user(conn: &mut Conn, id: i64) -> Result<ApiUser> {
    let (name, store, key_prefix, created_at) = sqlx::query_as::<Db, (String, String, String, chrono::DateTime<chrono::Utc>)>(
        "SELECT u.name, s.code, u.key_prefix, u.created_at FROM api_users u JOIN stores s ON s.id = u.store_id \
         WHERE u.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let locations = sqlx::query_scalar::<Db, String>(
        "SELECT l.code FROM api_user_locations ul JOIN locations l ON l.id = ul.location_id \
         WHERE ul.api_user_id = $1 ORDER BY l.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ApiUser {
        id,
        name,
        store,
        locations,
        key_prefix,
        created_at,
    })
}

#[async_trait]
impl crate::Stores for Backend {
    async fn create_store(&self, store: &NewStore) -> Result<Store> {
        store.check()?;
        let mut tx = self.write.begin().await?;
        let (locations, group_id) = new_store_locations(&mut tx, store).await?;
        let at = now();
        let walk_in = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO customers (phone, email, name, address, walk_in, created_at, updated_at) \
             VALUES (NULL, NULL, $1, NULL, TRUE, $2, $2) RETURNING id",
        )
        .bind(format!("Walk-in customer ({})", store.code))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO stores (code, name, connector, config, payment_types, allow_backorder, prices_include_tax, \
             walk_in_customer_id, created_at, push_enabled, currency, accept_test_orders) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(store.code.as_str())
        .bind(store.name.trim())
        .bind(&store.connector)
        .bind(Json(&store.config))
        .bind(Json(&store.payment_types))
        .bind(store.allow_backorder)
        .bind(store.prices_include_tax)
        .bind(walk_in)
        .bind(at)
        // Pushes go only where the store's config names an address.
        .bind(store.config.get("base_url").and_then(|v| v.as_str()).is_some_and(|u| !u.trim().is_empty()))
        .bind(store.currency.map(Currency::code))
        .bind(store.accept_test_orders)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "duplicate_store", || format!("store `{}` already exists", store.code)))?;
        for LocationRef { id: loc, code } in &locations {
            sqlx::query::<Db>(
                "INSERT INTO store_locations (store_id, location_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(loc)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    DomainError::invalid(
                        "locations",
                        "duplicate_location",
                        format!("`{code}` is listed twice"),
                    )
                    .into()
                } else {
                    Error::from(e)
                }
            })?;
        }
        save_channel(
            &mut tx,
            id,
            group_id,
            store.sourcing,
            &store.payment_policy,
            store.stock_buffer.as_ref(),
            store.enforce_prices,
        )
        .await?;
        let created = load_store(&mut tx, store.code.as_str()).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn list_stores(&self) -> Result<Vec<Store>> {
        let mut conn = self.read.acquire().await?;
        let codes = sqlx::query_scalar::<Db, String>("SELECT code FROM stores ORDER BY code")
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            out.push(load_store(&mut conn, &code).await?);
        }
        Ok(out)
    }

    async fn get_store(&self, code: &str) -> Result<Store> {
        let mut conn = self.read.acquire().await?;
        load_store(&mut conn, code).await
    }

    async fn store_id(&self, code: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar::<Db, i64>("SELECT id FROM stores WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn create_api_user(
        &self,
        store_code: &str,
        user: &NewApiUser,
        key_hash: &str,
        key_prefix: &str,
    ) -> Result<ApiUser> {
        user.check()?;
        let mut tx = self.write.begin().await?;
        let store = store_row(&mut tx, store_code).await?;
        let store_locs = store_locations(&mut tx, store.id).await?;
        let chosen = scope::key_locations(store_code, &store_locs, user.locations.as_deref())?;
        let id = sqlx::query_scalar::<Db, i64>(
            "INSERT INTO api_users (store_id, name, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(store.id)
        .bind(user.name.trim())
        .bind(key_hash)
        .bind(key_prefix)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        for LocationRef { id: loc, .. } in &chosen {
            sqlx::query::<Db>(
                "INSERT INTO api_user_locations (api_user_id, location_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(loc)
            .execute(&mut *tx)
            .await?;
        }
        let created = load_api_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn list_api_users(&self, store_code: &str) -> Result<Vec<ApiUser>> {
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let ids = sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM api_users WHERE store_id = $1 ORDER BY id",
        )
        .bind(store.id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(load_api_user(&mut conn, id).await?);
        }
        Ok(out)
    }

    async fn authenticate(&self, key_hash: &str) -> Result<Option<Principal>> {
        let mut conn = self.read.acquire().await?;
        // One row per location the key acts for (its own locations that its
        // store still sells from), or one with none: a single round trip on
        // every store API request.
        let sql = format!(
            "SELECT u.id AS user_id, s.id AS store_id, s.code, s.payment_types, s.allow_backorder, \
             s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, k.location_id, k.location_code \
             FROM api_users u JOIN stores s ON s.id = u.store_id \
             LEFT JOIN (SELECT ul.api_user_id, sl.store_id, l.id AS location_id, l.code AS location_code \
               FROM api_user_locations ul JOIN locations l ON l.id = ul.location_id \
               JOIN store_locations sl ON sl.location_id = l.id) k \
             ON k.api_user_id = u.id AND k.store_id = s.id \
             WHERE u.key_hash = $1 ORDER BY k.location_code"
        );
        let rows = sqlx::query::<Db>(&sql)
            .bind(key_hash)
            .fetch_all(&mut *conn)
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let locations = joined_locations(&rows)?;
        Ok(Some(Principal {
            api_user_id: row.try_get("user_id")?,
            store_id: row.try_get("store_id")?,
            store_code: row.try_get("code")?,
            locations,
            payment_types: row.try_get::<Json<Vec<PaymentType>>, _>("payment_types")?.0,
            allow_backorder: row.try_get("allow_backorder")?,
            prices_include_tax: row.try_get("prices_include_tax")?,
            currency: stored_currency(row.try_get("currency")?)?,
            accept_test_orders: row.try_get("accept_test_orders")?,
            store_enabled: row.try_get("enabled")?,
        }))
    }

    async fn store_context(&self, code: &str) -> Result<StoreContext> {
        let mut conn = self.read.acquire().await?;
        // One row per location of the store (or one with none): a single
        // round trip on every webhook.
        let sql = format!(
            "SELECT s.id, s.code, s.name, s.connector, s.config, s.payment_types, s.allow_backorder, \
             s.prices_include_tax, {STORE_CURRENCY}, s.accept_test_orders, s.enabled, s.created_at, \
             l.id AS location_id, l.code AS location_code \
             FROM stores s LEFT JOIN store_locations sl ON sl.store_id = s.id \
             LEFT JOIN locations l ON l.id = sl.location_id WHERE s.code = $1 ORDER BY l.code"
        );
        let rows = sqlx::query::<Db>(&sql)
            .bind(code)
            .fetch_all(&mut *conn)
            .await?;
        let Some(first) = rows.first() else {
            return Err(DomainError::not_found("store", code).into());
        };
        let row = <StoreRow as sqlx::FromRow<_>>::from_row(first)?;
        let locations = joined_locations(&rows)?;
        Ok(StoreContext {
            principal: Principal {
                api_user_id: 0,
                store_id: row.id,
                store_code: row.code,
                locations,
                payment_types: row.payment_types.0,
                allow_backorder: row.allow_backorder,
                prices_include_tax: row.prices_include_tax,
                currency: stored_currency(&row.currency)?,
                accept_test_orders: row.accept_test_orders,
                store_enabled: row.enabled,
            },
            connector: row.connector,
            config: row.config.0,
        })
    }

    async fn record_event(&self, e: &NewConnectorEvent) -> Result<()> {
        self.log_event(e).await
    }

    async fn list_events(&self, store_code: &str, limit: u32) -> Result<Vec<ConnectorEvent>> {
        self.settle().await?;
        let mut conn = self.read.acquire().await?;
        let store = store_row(&mut conn, store_code).await?;
        let rows = sqlx::query::<Db>(
            "SELECT id, direction, topic, outcome, http_status, detail, order_id, logs, elapsed_us, created_at \
             FROM connector_events WHERE store_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(store.id)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ConnectorEvent {
                    id: r.try_get("id")?,
                    store: store.code.clone(),
                    direction: r.try_get("direction")?,
                    topic: r.try_get("topic")?,
                    outcome: r.try_get("outcome")?,
                    http_status: r.try_get("http_status")?,
                    detail: r.try_get("detail")?,
                    order_id: r.try_get("order_id")?,
                    logs: r.try_get("logs")?,
                    elapsed_us: r.try_get("elapsed_us")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn update_store(&self, code: &str, patch: &StorePatch) -> Result<Store> {
        self.patch_store(code, patch).await
    }
}
