//! The hub itself: its settings and currency, and the ledger check.

use super::*;

/// The settings key of the hub's currency (seeded by migration 0010).
pub(super) const CURRENCY_SETTING: &str = "currency";

/// A store's currency: its own, else the hub's (`s` is the store).
pub(super) const STORE_CURRENCY: &str =
    "COALESCE(s.currency, (SELECT value FROM settings WHERE key = 'currency')) AS currency";

/// A currency storage wrote after checking it.
pub(super) fn stored_currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|e| Error::Corrupt(format!("currency: {e}")))
}

#[async_trait]
impl crate::Hub for Backend {
    fn backend(&self) -> &'static str {
        DIALECT.backend
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query::<Db>("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String> {
        let mut tx = self.write.begin().await?;
        sqlx::query::<Db>(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        let v = sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(v)
    }

    async fn hub_currency(&self) -> Result<Currency> {
        let code = self.get_setting(CURRENCY_SETTING).await?;
        code.as_deref()
            .map_or(Ok(Currency::DEFAULT), stored_currency)
    }

    async fn set_hub_currency(&self, currency: Currency) -> Result<Currency> {
        let mut tx = self.write.begin().await?;
        let current = sqlx::query_scalar::<Db, String>("SELECT value FROM settings WHERE key = $1")
            .bind(CURRENCY_SETTING)
            .fetch_optional(&mut *tx)
            .await?;
        if current.as_deref() == Some(currency.code()) {
            return Ok(currency);
        }
        let booked = sqlx::query_scalar::<Db, i64>("SELECT id FROM sales_orders LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if booked.is_some() {
            return Err(DomainError::conflict(
                "currency_locked",
                format!(
                    "the hub's currency is {} and orders are booked in it; it cannot become {currency}",
                    current.as_deref().unwrap_or(Currency::DEFAULT.code())
                ),
            )
            .into());
        }
        sqlx::query::<Db>(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(CURRENCY_SETTING)
        .bind(currency.code())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(currency)
    }

    async fn verify_ledger(&self) -> Result<Vec<LedgerMismatch>> {
        let mut conn = self.read.acquire().await?;
        let mut tx = conn.begin().await?;
        let moves = sqlx::query_as::<Db, (i64, i64, Dec, Dec)>(
            "SELECT variant_id, location_id, on_hand_delta, reserved_delta FROM stock_movements",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut ledger: BTreeMap<(i64, i64), (Decimal, Decimal)> = BTreeMap::new();
        for (v, l, oh, r) in moves {
            let e = ledger.entry((v, l)).or_default();
            e.0 += oh.0;
            e.1 += r.0;
        }
        let balances = sqlx::query_as::<Db, BalanceRow>(
            "SELECT variant_id, location_id, on_hand, reserved FROM stock_balances",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = Vec::new();
        for b in balances {
            let key = (b.variant_id, b.location_id);
            let sums = ledger.remove(&key).unwrap_or_default();
            if sums != (b.on_hand.0, b.reserved.0) {
                out.push(LedgerMismatch {
                    variant_id: b.variant_id,
                    location_id: b.location_id,
                    ledger: sums,
                    balance: (b.on_hand.0, b.reserved.0),
                });
            }
        }
        for ((variant_id, location_id), sums) in ledger {
            out.push(LedgerMismatch {
                variant_id,
                location_id,
                ledger: sums,
                balance: Default::default(),
            });
        }
        Ok(out)
    }
}
