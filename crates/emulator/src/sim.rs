//! The mutable side of the emulated account: payouts going through their statuses, KYC holds
//! released after an upload, and amounts added to a tax year ("growing year").
//!
//! Time is counted in **steps** ([`PayoutClock`]): by default one step per request the emulator
//! receives, so a run is reproducible request for request. A committed payout moves one status
//! per step:
//!
//! | fate | statuses (one step apart unless noted) |
//! |---|---|
//! | normal | `PENDING` → `PROCESSING` → `COMPLETED` |
//! | flip to cancelled | `PENDING` → `PROCESSING` → `COMPLETED` → (2 steps) `CANCELLED` |
//! | flip to completed | `PENDING` → `PROCESSING` → `CANCELLED` → (2 steps) `COMPLETED` |
//! | hold | `PENDING` → `HOLD` (the user gets a bank-statement hold); after the user's documents are uploaded and reviewed: `PROCESSING` → `COMPLETED` |
//! | error | `PENDING` → `PROCESSING` → `ERROR` |
//! | cancel | `PENDING` → `CANCELLED` |
//!
//! The fate comes from a marker in `client_transfer_id` (`emu-normal`, `emu-flip-cancel`,
//! `emu-flip-complete`, `emu-hold`, `emu-error`, `emu-cancel`), otherwise from the seed and the
//! payout token: about 2% flip to cancelled, 1% flip to completed, 2% hold, 2% error.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::data::{self, EmuPayee, Hold, Txn, TxnKind, fnv1a, mix, mix3, rng_from, uuid_from};
use crate::dates;

/// How the emulator's payout clock advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutClock {
    /// One step per `n` requests received (any route, 401s included).
    Requests(u64),
    /// One step per `n` milliseconds of wall time.
    Millis(u64),
    /// Only `POST /sandbox/clock/advance` (or [`crate::RunningEmulator::advance`]) moves it.
    Manual,
}

impl Default for PayoutClock {
    fn default() -> Self {
        PayoutClock::Requests(1)
    }
}

/// What happens to a committed payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Normal,
    FlipToCancelled,
    FlipToCompleted,
    Hold,
    Error,
    Cancel,
}

impl Fate {
    pub(crate) fn of(seed: u64, payout_token: &str, client_transfer_id: &str) -> Fate {
        let id = client_transfer_id.to_ascii_lowercase();
        for (marker, fate) in [
            ("emu-flip-cancel", Fate::FlipToCancelled),
            ("emu-flip-complete", Fate::FlipToCompleted),
            ("emu-hold", Fate::Hold),
            ("emu-error", Fate::Error),
            ("emu-cancel", Fate::Cancel),
            ("emu-normal", Fate::Normal),
        ] {
            if id.contains(marker) {
                return fate;
            }
        }
        match mix(seed ^ 0x6661_7465, fnv1a(payout_token.as_bytes())) % 100 {
            0..=1 => Fate::FlipToCancelled,
            2 => Fate::FlipToCompleted,
            3..=4 => Fate::Hold,
            5..=6 => Fate::Error,
            _ => Fate::Normal,
        }
    }
}

/// One payout the emulator knows of (initiated through the API).
pub(crate) struct PayoutRec {
    pub user_token: String,
    /// The `PayoutTxnResp` as first answered (status patched on output).
    pub body: Map<String, Value>,
    pub status: &'static str,
    pub status_reason: String,
    pub since: u64,
    pub committed: bool,
    pub fate: Fate,
    pub created_ms: i64,
}

impl PayoutRec {
    /// The payout as `PayoutTxnResp` JSON with its current status.
    pub(crate) fn to_json(&self) -> Value {
        let mut m = self.body.clone();
        m.insert("status".into(), Value::String(self.status.into()));
        m.insert(
            "status_reason".into(),
            Value::String(self.status_reason.clone()),
        );
        Value::Object(m)
    }
}

/// A user's compliance state beyond the seeded data.
#[derive(Default)]
pub(crate) struct UserSim {
    /// A hold opened by a payout entering `HOLD`.
    pub override_hold: Option<Hold>,
    pub uploaded_at: Option<u64>,
    pub uploaded_ms: i64,
    pub released_at: Option<u64>,
}

/// An amount added to a payee's tax year (`POST /sandbox/tax/{year}/{user_token}/add`).
pub(crate) struct Added {
    pub token: String,
    pub amount: Decimal,
    pub time: i64,
}

/// An event to send to the webhook URL.
pub(crate) type Event = Value;

#[derive(Default)]
pub(crate) struct Sim {
    pub manual_steps: u64,
    pub step: u64,
    pub payouts: Vec<PayoutRec>,
    pub index: HashMap<String, usize>,
    pub users: BTreeMap<String, UserSim>,
    pub added: HashMap<(i32, String), Vec<Added>>,
}

/// Review time from an upload to the release of the hold, in steps.
pub(crate) const REVIEW_STEPS: u64 = 1;

impl Sim {
    /// The hold in force for a payee now.
    pub(crate) fn hold_of(&self, payee: &EmuPayee) -> Hold {
        match self.users.get(&payee.user_token) {
            Some(u) if u.released_at.is_some() => Hold::None,
            Some(UserSim {
                override_hold: Some(h),
                ..
            }) => h.clone(),
            _ => payee.hold.clone(),
        }
    }

    /// The payee with the hold in force now.
    pub(crate) fn live(&self, mut payee: EmuPayee) -> EmuPayee {
        payee.hold = self.hold_of(&payee);
        payee
    }

    /// Added amounts of a year, by token.
    pub(crate) fn added_in(&self, year: i32) -> HashMap<String, Decimal> {
        self.added
            .iter()
            .filter(|((y, _), _)| *y == year)
            .map(|((_, t), v)| (t.clone(), v.iter().map(|a| a.amount).sum()))
            .collect()
    }

    /// Records documents uploaded for a user with a hold; `false` when there is none.
    pub(crate) fn upload(&mut self, payee: &EmuPayee) -> bool {
        if matches!(self.hold_of(payee), Hold::None) {
            return false;
        }
        let step = self.step;
        let u = self.users.entry(payee.user_token.clone()).or_default();
        if u.uploaded_at.is_none() {
            u.uploaded_at = Some(step);
            u.uploaded_ms = dates::now_millis();
        }
        true
    }

    /// Moves everything to `step`, returning the webhook events of every change, in order.
    pub(crate) fn advance_to(
        &mut self,
        step: u64,
        seed: u64,
        user_token_in_payout: bool,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        if step <= self.step {
            return events;
        }
        self.step = step;
        for (token, u) in self.users.iter_mut() {
            if u.released_at.is_none()
                && let Some(up) = u.uploaded_at
                && step >= up + REVIEW_STEPS
            {
                u.released_at = Some(up + REVIEW_STEPS);
                u.override_hold = None;
                events.push(user_event(token, "ACTIVE"));
            }
        }
        for i in 0..self.payouts.len() {
            loop {
                let released = self
                    .users
                    .get(&self.payouts[i].user_token)
                    .and_then(|u| u.released_at);
                let rec = &self.payouts[i];
                let Some((status, reason, at)) = next_status(rec, released) else {
                    break;
                };
                if at > step {
                    break;
                }
                let rec = &mut self.payouts[i];
                rec.status = status;
                rec.status_reason = reason.to_string();
                rec.since = at;
                let user = rec.user_token.clone();
                events.push(payout_event(rec, user_token_in_payout));
                if status == "HOLD" {
                    let link = format!(
                        "https://l.maspay.io/{}",
                        &uuid_from(&mut rng_from(mix3(
                            seed,
                            0x686f6c64,
                            fnv1a(user.as_bytes())
                        )))[..8]
                    );
                    let u = self.users.entry(user).or_default();
                    u.override_hold = Some(Hold::BankStatement {
                        account_number: "12345".into(),
                        link,
                    });
                    u.uploaded_at = None;
                    u.released_at = None;
                }
            }
        }
        events
    }

    /// A payout by token, from the API-created ones.
    pub(crate) fn payout(&self, token: &str) -> Option<&PayoutRec> {
        self.index.get(token).map(|&i| &self.payouts[i])
    }

    pub(crate) fn insert(&mut self, token: String, rec: PayoutRec) {
        if self.index.contains_key(&token) {
            return;
        }
        self.index.insert(token, self.payouts.len());
        self.payouts.push(rec);
    }

    /// Commits a payout: `PENDING` from now on. Returns its event, if it changed.
    pub(crate) fn commit(&mut self, token: &str, user_token_in_payout: bool) -> Option<Event> {
        let step = self.step;
        let i = *self.index.get(token)?;
        let rec = &mut self.payouts[i];
        if rec.committed {
            return None;
        }
        rec.committed = true;
        rec.status = "PENDING";
        rec.status_reason = String::new();
        rec.since = step;
        Some(payout_event(rec, user_token_in_payout))
    }

    /// Adds `amount` to a payee's `year` as one COMPLETED payout.
    pub(crate) fn add(&mut self, seed: u64, year: i32, token: &str, amount: Decimal) -> Decimal {
        let list = self.added.entry((year, token.to_string())).or_default();
        let k = list.len() as i64;
        let mut r = rng_from(mix3(
            seed ^ 0x616464,
            year as u64,
            fnv1a(token.as_bytes()) ^ k as u64,
        ));
        // Dated on December 31, after the year's generated payouts (as a new payout comes after
        // the old ones), each later than the one added before.
        let start = dates::days_from_civil(i64::from(year), 12, 31) * 86_400;
        list.push(Added {
            token: format!("payout_{}", uuid_from(&mut r)),
            amount,
            time: start + (k % 1_440) * 60,
        });
        list.iter().map(|a| a.amount).sum()
    }

    /// History entries for the amounts added to `(year, payee)`.
    pub(crate) fn added_txns(&self, seed: u64, year: i32, payee: &EmuPayee) -> Vec<Txn> {
        let Some(list) = self.added.get(&(year, payee.user_token.clone())) else {
            return Vec::new();
        };
        let (currency, rate) = data::currency_for(&payee.country);
        let (_, dest) = data::payee_wallet_tokens(seed, payee);
        list.iter()
            .map(|a| Txn {
                token: a.token.clone(),
                kind: TxnKind::Payout,
                time: a.time,
                source_amount: a.amount,
                source_currency_code: "USD",
                destination_amount: (a.amount * rate).round_dp(2),
                destination_currency_code: currency,
                fee: if currency == "USD" {
                    Decimal::new(25, 2)
                } else {
                    Decimal::new(299, 2)
                },
                status: "COMPLETED",
                notes: String::new(),
                payer_name: "Bank Deposit".into(),
                pickup_code: String::new(),
                source_token: data::client_wallet_token(seed),
                destination_token: dest.clone(),
                delivery_type: Some("BANK_DEPOSIT"),
                client_transfer_id: format!("sandbox-add-{year}"),
                status_reason: String::new(),
                user_token: payee.user_token.clone(),
            })
            .collect()
    }
}

/// The next status of a committed payout and the step it is reached at.
fn next_status(
    rec: &PayoutRec,
    released: Option<u64>,
) -> Option<(&'static str, &'static str, u64)> {
    if !rec.committed {
        return None;
    }
    let s = rec.since;
    Some(match (rec.fate, rec.status) {
        (Fate::Hold, "PENDING") => ("HOLD", "Additional documentation required", s + 1),
        (Fate::Cancel, "PENDING") => ("CANCELLED", "Cancelled at the client's request", s + 1),
        (_, "PENDING") => ("PROCESSING", "", s + 1),
        (Fate::Error, "PROCESSING") => (
            "ERROR",
            "The payout destination rejected the transfer",
            s + 1,
        ),
        (Fate::FlipToCompleted, "PROCESSING") => {
            ("CANCELLED", "Beneficiary information is incorrect", s + 1)
        }
        (_, "PROCESSING") => ("COMPLETED", "", s + 1),
        (Fate::FlipToCancelled, "COMPLETED") => (
            "CANCELLED",
            "The payout was returned by the beneficiary's bank",
            s + 2,
        ),
        (Fate::FlipToCompleted, "CANCELLED") => ("COMPLETED", "", s + 2),
        (Fate::Hold, "HOLD") => {
            let r = released?;
            ("PROCESSING", "", r.max(s + 1))
        }
        _ => return None,
    })
}

/// §8.1 payout status payload.
pub(crate) fn payout_event(rec: &PayoutRec, user_token: bool) -> Event {
    let mut m = Map::new();
    for key in [
        "payout_token",
        "client_transfer_id",
        "source_currency_code",
        "destination_currency_code",
        "country_code",
        "payer_name",
        "source_token",
        "destination_token",
        "destination_amount",
        "source_amount",
        "attr_set_token",
        "exchange_rate",
        "fee",
        "expiration",
    ] {
        if let Some(v) = rec.body.get(key) {
            m.insert(key.into(), v.clone());
        }
    }
    m.insert("status".into(), Value::String(rec.status.into()));
    m.insert(
        "status_reason".into(),
        Value::String(rec.status_reason.clone()),
    );
    if user_token {
        m.insert("user_token".into(), Value::String(rec.user_token.clone()));
    }
    m.insert("event_type".into(), Value::String("payout".into()));
    Value::Object(m)
}

/// A user status payload (MassPay's page shows only its start: `user_token`, then cut off).
pub(crate) fn user_event(token: &str, status: &str) -> Event {
    serde_json::json!({ "user_token": token, "status": status, "event_type": "user" })
}

/// §8.2 load payload.
pub(crate) fn load_event(seed: u64, payee: &EmuPayee, amount: Decimal, n: u64) -> Event {
    let mut r = rng_from(mix3(
        seed,
        0x6c6f6164,
        fnv1a(payee.user_token.as_bytes()) ^ n,
    ));
    let (wallet, _) = data::payee_wallet_tokens(seed, payee);
    serde_json::json!({
        "load_token": format!("ld_{}", uuid_from(&mut r)),
        "time_of_load": dates::format_timestamp_millis(dates::now_millis()),
        "client_load_id": format!("load-{n}"),
        "source_token": wallet,
        "wallet_token": wallet,
        "amount": crate::json::number_value(amount),
        "source_currency_code": "USD",
        "notes": "Sandbox load",
        "status": "COMPLETED",
        "event_type": "load",
    })
}

/// §8.2 spendback payload.
pub(crate) fn spendback_event(seed: u64, payee: &EmuPayee, n: u64) -> Event {
    let mut r = rng_from(mix3(
        seed,
        0x7370656e64,
        fnv1a(payee.user_token.as_bytes()) ^ n,
    ));
    serde_json::json!({
        "spendback_token": uuid_from(&mut r),
        "client_spendback_id": format!("spendback-{n}"),
        "status": "success",
        "event_type": "spendback",
    })
}

/// §8.3 tax-interview (W-9/W-8) payload, PascalCase, with the full TIN. MassPay's example has
/// no `event_type`; neither has this one.
pub(crate) fn tax_interview_event(seed: u64, payee: &EmuPayee, tin: Option<&str>) -> Event {
    let us = payee.country == "USA";
    let tin = tin
        .map(str::to_string)
        .unwrap_or_else(|| match &payee.tax_id {
            data::TaxId::Text(t) => t.chars().filter(char::is_ascii_alphanumeric).collect(),
            _ => String::new(),
        });
    let business = !payee.business_name.trim().is_empty();
    let tin_type = if !us {
        "FTIN"
    } else if business {
        "EIN"
    } else if tin.starts_with('9') {
        "ITIN"
    } else {
        "SSN"
    };
    let legal = if business {
        payee.business_name.clone()
    } else {
        format!("{} {}", payee.first_name, payee.last_name)
    };
    let mut r = rng_from(mix3(seed, 0x746178, fnv1a(payee.user_token.as_bytes())));
    let now = dates::format_timestamp_millis(dates::now_millis());
    serde_json::json!({
        "IdentityKey": uuid_from(&mut r),
        "AccountId": payee.user_token,
        "LegalName": legal,
        "TIN": tin,
        "TINType": tin_type,
        "TaxStatus": "TaxInfoOnFile",
        "FormType": if us { "W9" } else { "W8BEN" },
        "IsUSPerson": us,
        "FirstName": payee.first_name,
        "LastName": payee.last_name,
        "KYCStatus": "KYCNotTested",
        "TaxTreatyCountry": if payee.country.is_empty() { "USA" } else { &payee.country },
        "TaxTreatyCountryCode": "",
        "TaxIncomeType": "Service",
        "ConsentElectronicSignature": true,
        "ConsentElectronicReporting": true,
        "CreatedOn": now,
        "ModifiedOn": now,
        "EmailAddress": payee.email,
    })
}
