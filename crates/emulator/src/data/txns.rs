//! Transactions of a payee in a year (history), wallet tokens and currencies.

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// Transactions

/// `TxnHistoryResp.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnKind {
    /// `payout`
    Payout,
    /// `load`
    Load,
    /// `spend back` (query filter value `spendback`)
    SpendBack,
}

impl TxnKind {
    /// Value of the response `type` field (note the space in `spend back`).
    pub fn wire(self) -> &'static str {
        match self {
            TxnKind::Payout => "payout",
            TxnKind::Load => "load",
            TxnKind::SpendBack => "spend back",
        }
    }

    /// Value accepted by the `type` query filter.
    pub fn filter_name(self) -> &'static str {
        match self {
            TxnKind::Payout => "payout",
            TxnKind::Load => "load",
            TxnKind::SpendBack => "spendback",
        }
    }
}

/// One history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txn {
    /// Transaction token.
    pub token: String,
    /// Kind.
    pub kind: TxnKind,
    /// Seconds since the epoch (UTC).
    pub time: i64,
    /// Amount in the source currency (USD).
    pub source_amount: Decimal,
    /// Always `USD`.
    pub source_currency_code: &'static str,
    /// Amount delivered.
    pub destination_amount: Decimal,
    /// ISO 4217.
    pub destination_currency_code: &'static str,
    /// Fee charged to the client.
    pub fee: Decimal,
    /// `COMPLETED` or `CANCELLED`.
    pub status: &'static str,
    /// Notes (loads and spend backs).
    pub notes: String,
    /// Payer (payouts).
    pub payer_name: String,
    /// Pickup code (cash pickup payouts).
    pub pickup_code: String,
    /// Source token.
    pub source_token: String,
    /// Destination token.
    pub destination_token: String,
    /// Payouts only.
    pub delivery_type: Option<&'static str>,
    /// Client's id for the transfer.
    pub client_transfer_id: String,
    /// Reason for CANCELLED.
    pub status_reason: String,
    /// Owner.
    pub user_token: String,
}

/// Destination currency and USD exchange rate for a payee country.
pub fn currency_for(country: &str) -> (&'static str, Decimal) {
    match country {
        "MEX" => ("MXN", Decimal::new(1855, 2)),
        "CAN" => ("CAD", Decimal::new(136, 2)),
        "GBR" => ("GBP", Decimal::new(79, 2)),
        "DEU" => ("EUR", Decimal::new(92, 2)),
        "IND" => ("INR", Decimal::new(832, 1)),
        "PHL" => ("PHP", Decimal::new(561, 1)),
        "BRA" => ("BRL", Decimal::new(505, 2)),
        _ => ("USD", Decimal::ONE),
    }
}

pub(super) fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

pub(super) fn cents_of(d: Decimal) -> i64 {
    (round2(d) * Decimal::ONE_HUNDRED).to_i64().unwrap_or(0)
}

/// The deterministic `clnt_wlt_…` funding-account token of the emulated client.
pub fn client_wallet_token(seed: u64) -> String {
    format!(
        "clnt_wlt_{}",
        uuid_from(&mut rng_from(mix(seed, SALT_WALLET)))
    )
}

/// `(usr_wlt_…, dst_…)` tokens of a payee.
pub fn payee_wallet_tokens(seed: u64, payee: &EmuPayee) -> (String, String) {
    let mut r = rng_from(mix3(seed, SALT_DEST, payee.seed_key()));
    (
        format!("usr_wlt_{}", uuid_from(&mut r)),
        format!("dst_{}", uuid_from(&mut r)),
    )
}

/// The payee's transactions in `year`, oldest first. COMPLETED payouts sum to
/// [`EmuPayee::balance_cents`].
pub fn transactions(seed: u64, year: i32, payee: &EmuPayee) -> Vec<Txn> {
    let mut r = rng_from(mix3(seed ^ SALT_TXN, year as i64 as u64, payee.seed_key()));
    let client_wallet = client_wallet_token(seed);
    let (user_wallet, dest) = payee_wallet_tokens(seed, payee);
    let (currency, rate) = currency_for(&payee.country);
    let year_start = dates::days_from_civil(i64::from(year), 1, 1) * 86_400;
    let year_len = dates::days_in_year(i64::from(year)) * 86_400;
    let total = cents_of(payee.balance);
    let mut out = Vec::new();
    let payout = |r: &mut ChaCha8Rng, cents: i64, status: &'static str, reason: &str| {
        let amount = Decimal::new(cents, 2);
        let cash = currency == "MXN" && r.random_range(0..2u8) == 0;
        let (payer, delivery, pickup) = if cash {
            ("Elektra", "CASH_PICKUP", digits(r, 6))
        } else {
            ("Bank Deposit", "BANK_DEPOSIT", String::new())
        };
        let fee = if currency == "USD" {
            Decimal::new(25, 2)
        } else {
            Decimal::new(299, 2)
        };
        Txn {
            token: format!("payout_{}", uuid_from(r)),
            kind: TxnKind::Payout,
            time: year_start + r.random_range(0..year_len),
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: round2(amount * rate),
            destination_currency_code: currency,
            fee,
            status,
            notes: String::new(),
            payer_name: payer.to_string(),
            pickup_code: pickup,
            source_token: client_wallet.clone(),
            destination_token: dest.clone(),
            delivery_type: Some(delivery),
            client_transfer_id: format!("inv-{year}-{}", digits(r, 6)),
            status_reason: reason.to_string(),
            user_token: payee.user_token.clone(),
        }
    };
    if total > 0 {
        let k = r.random_range(1..=4i64).min(total);
        let mut cuts: Vec<i64> = Vec::with_capacity(k as usize + 1);
        while (cuts.len() as i64) < k - 1 {
            let c = r.random_range(1..total);
            if !cuts.contains(&c) {
                cuts.push(c);
            }
        }
        cuts.sort_unstable();
        cuts.push(total);
        let mut prev = 0;
        for c in cuts {
            out.push(payout(&mut r, c - prev, "COMPLETED", ""));
            prev = c;
        }
    }
    let extras: u8 = r.random_range(0..100);
    if extras < 10 {
        let c = r.random_range(5_000..50_000);
        out.push(payout(
            &mut r,
            c,
            "CANCELLED",
            "Beneficiary information is incorrect",
        ));
    }
    if extras.is_multiple_of(4) {
        let amount = Decimal::new(r.random_range(2_500..50_000), 2);
        let time = year_start + r.random_range(0..year_len);
        let (_, m, _) = dates::civil_from_days(time.div_euclid(86_400));
        out.push(Txn {
            token: format!("ld_{}", uuid_from(&mut r)),
            kind: TxnKind::Load,
            time,
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: amount,
            destination_currency_code: "USD",
            fee: Decimal::ZERO,
            status: "COMPLETED",
            notes: format!("Commission payment for {}", MONTHS[(m - 1) as usize]),
            payer_name: String::new(),
            pickup_code: String::new(),
            source_token: client_wallet.clone(),
            destination_token: user_wallet.clone(),
            delivery_type: None,
            client_transfer_id: format!("ld-{year}-{}", digits(&mut r, 6)),
            status_reason: String::new(),
            user_token: payee.user_token.clone(),
        });
    }
    if extras % 12 == 1 {
        let amount = Decimal::new(r.random_range(500..10_000), 2);
        out.push(Txn {
            token: uuid_from(&mut r),
            kind: TxnKind::SpendBack,
            time: year_start + r.random_range(0..year_len),
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: amount,
            destination_currency_code: "USD",
            fee: Decimal::ZERO,
            status: "COMPLETED",
            notes: "Spend back of unused wallet funds".to_string(),
            payer_name: String::new(),
            pickup_code: String::new(),
            source_token: user_wallet.clone(),
            destination_token: client_wallet.clone(),
            delivery_type: None,
            client_transfer_id: String::new(),
            status_reason: String::new(),
            user_token: payee.user_token.clone(),
        });
    }
    out.sort_by_key(|t| t.time);
    out
}
