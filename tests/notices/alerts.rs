//! Threshold alerts end to end (issue 12): the SMTP channel against a local SMTP server, the
//! scheduler (one run per slot across schedulers sharing a store, a missed slot once), SIGTERM
//! during a scheduled run, and the year boundary. The emulator is the only MassPay.

use super::common::{self, TestDb};
use masspay_tax::alerts::{AlertOptions, evaluate};
use masspay_tax::config::Settings;
use masspay_tax::notify::{
    Notifier, NotifySettings, SMTP_PASSWORD_ENV, SmtpSettings, SmtpTls, WEBHOOK_URL_ENV,
};
use masspay_tax::schedule::{self, Schedule, SchedulerOptions};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");

/// A tiny SMTP server on 127.0.0.1: answers `451` to MAIL FROM on the first `fail_first`
/// connections, else accepts; keeps every message (the DATA, dot-unstuffed) it accepted.
struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    auth_seen: Arc<AtomicBool>,
}

async fn smtp_sink(fail_first: usize) -> SmtpSink {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let auth_seen = Arc::new(AtomicBool::new(false));
    let (m, c, a) = (messages.clone(), connections.clone(), auth_seen.clone());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let n = c.fetch_add(1, Ordering::SeqCst);
            let (m, a) = (m.clone(), a.clone());
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 localhost ESMTP sink\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        b"250-localhost\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n"
                    } else if cmd.starts_with("AUTH") {
                        a.store(true, Ordering::SeqCst);
                        b"235 2.7.0 Authentication successful\r\n"
                    } else if cmd.starts_with("MAIL FROM") {
                        if n < fail_first {
                            b"451 4.3.0 try again later\r\n"
                        } else {
                            b"250 OK\r\n"
                        }
                    } else if cmd.starts_with("RCPT TO") {
                        b"250 OK\r\n"
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" || line == ".\n" {
                                break;
                            }
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                        }
                        m.lock().await.push(data);
                        b"250 OK queued\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    SmtpSink {
        port,
        messages,
        connections,
        auth_seen,
    }
}

fn smtp_settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        username: Some("alerts".into()),
        from: "masspay-tax <tax@acme.example>".into(),
        to: vec!["compliance@acme.example".into()],
        subject_prefix: None,
    }
}

/// A synced emulator year with alerts recorded; returns the full TINs the store holds.
async fn year_with_alerts(
    store: &masspay_tax_store::Store,
    emu: &masspay_emulator::RunningEmulator,
) -> (Vec<masspay_tax::alerts::Alert>, Vec<String>) {
    use futures_util::TryStreamExt;
    let s = Settings::default();
    let year = masspay_emulator::default_tax_year();
    let c = common::client(emu, 5);
    masspay_tax::sync::sync_year(&c, store, &s.thresholds, year, "emulator", None)
        .await
        .unwrap();
    let (_, alerts) = evaluate(store, &s, year, &AlertOptions::default())
        .await
        .unwrap();
    let tins: Vec<String> = store
        .year_payees(year, None)
        .try_filter_map(|p| async move {
            Ok(p.tin
                .filter(|t| t.chars().filter(char::is_ascii_digit).count() >= 9))
        })
        .try_collect()
        .await
        .unwrap();
    (alerts, tins)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The SMTP channel delivers to a local server, with the password from the environment; the
/// message holds no full TIN; several channels at once, a broken one does not stop the others;
/// a failed delivery is retried on the next run and sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivers_alerts_without_a_full_tin_and_retries_once() {
    for db in TestDb::all().await {
        let store = db.open().await;
        let emu = common::emulator(100, 0, 0).await;
        let (alerts, tins) = year_with_alerts(&store, &emu).await;
        assert!(alerts.len() >= 2, "the emulator year has alerts");
        assert!(!tins.is_empty(), "the store holds TINs to look for");
        let sink = smtp_sink(1).await;
        let settings = NotifySettings {
            stdout: Some(true),
            command: vec!["/nonexistent/masspay-notify".into()],
            smtp: Some(smtp_settings(sink.port)),
            ..Default::default()
        };
        let password = "Sm7p-Pa55word-Never-Shown";
        let n = Notifier::from_settings(&settings, |k| {
            (k == SMTP_PASSWORD_ENV).then(|| password.to_string())
        })
        .unwrap();
        assert!(!format!("{n:?}").contains(password));
        let mut out = Vec::new();
        let r = n.deliver(&store, &mut out).await.unwrap();
        assert_eq!(r.channels["stdout"].sent, alerts.len(), "{}", db.label);
        assert_eq!(r.channels["command"].failed, alerts.len(), "broken channel");
        let smtp = &r.channels["smtp"];
        assert!(smtp.failed >= 1, "the server refused the first connection");
        let err = smtp.error.clone().unwrap();
        assert!(!err.contains(password), "{err}");
        let first = sink.messages.lock().await.len();
        assert_eq!(first, smtp.sent);

        // The next run retries what failed; nothing goes twice.
        let r = n.deliver(&store, &mut Vec::new()).await.unwrap();
        assert_eq!(r.channels["smtp"].failed, 0, "{:?}", r.channels["smtp"]);
        assert_eq!(r.channels["stdout"].sent, 0, "stdout had them all");
        let r = n.deliver(&store, &mut Vec::new()).await.unwrap();
        assert_eq!(r.channels["smtp"].sent, 0, "sent once, then never again");
        let messages = sink.messages.lock().await.clone();
        assert_eq!(messages.len(), alerts.len(), "one e-mail per alert");
        assert!(sink.auth_seen.load(Ordering::SeqCst), "logged in");
        for a in &alerts {
            assert_eq!(
                messages
                    .iter()
                    .filter(|m| m.contains(&a.user_token))
                    .count(),
                1,
                "{} arrived once",
                a.user_token
            );
        }
        let all = messages.join("\n");
        assert!(all.contains("Subject: [masspay-tax] "));
        assert!(all.contains("To: compliance@acme.example"));
        assert!(!all.contains(password));
        let all_digits = digits(&all);
        for t in &tins {
            let d = digits(t);
            assert!(
                !all.contains(t.as_str()) && !all_digits.contains(&d),
                "a full TIN in an e-mail"
            );
        }
        store.close().await;
        db.cleanup().await;
    }
}

/// Digest mode: one e-mail (and one webhook POST) for many alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mode_sends_one_email_for_many_alerts() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let emu = common::emulator(100, 0, 0).await;
    let (alerts, _) = year_with_alerts(&store, &emu).await;
    assert!(alerts.len() >= 3);
    let sink = smtp_sink(0).await;
    let mut smtp = smtp_settings(sink.port);
    smtp.username = None;
    let settings = NotifySettings {
        stdout: Some(false),
        digest: true,
        smtp: Some(smtp),
        ..Default::default()
    };
    let n = Notifier::from_settings(&settings, |_| None).unwrap();
    let r = n.deliver(&store, &mut Vec::new()).await.unwrap();
    assert_eq!(r.channels["smtp"].sent, alerts.len());
    let messages = sink.messages.lock().await.clone();
    assert_eq!(messages.len(), 1, "one message per run in digest mode");
    assert!(messages[0].contains(&format!("{} new notices", alerts.len())));
    for a in &alerts {
        assert!(messages[0].contains(&a.user_token));
    }
    assert_eq!(sink.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn smtp_settings_are_checked_and_secrets_stay_out_of_errors() {
    let mut s = smtp_settings(2525);
    let n = NotifySettings {
        smtp: Some(s.clone()),
        ..Default::default()
    };
    let e = Notifier::from_settings(&n, |_| None)
        .unwrap_err()
        .to_string();
    assert!(e.contains(SMTP_PASSWORD_ENV), "{e}");
    s.host = "smtp.example.com".into();
    let n = NotifySettings {
        smtp: Some(s.clone()),
        ..Default::default()
    };
    let e = Notifier::from_settings(&n, |_| Some("hunter2-secret".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("starttls") && !e.contains("hunter2"), "{e}");
    s.tls = SmtpTls::Starttls;
    s.port = None;
    let n = NotifySettings {
        smtp: Some(s),
        ..Default::default()
    };
    let n = Notifier::from_settings(&n, |_| Some("hunter2-secret".into())).unwrap();
    assert_eq!(n.channels.len(), 1, "smtp only: stdout off");
    assert!(!format!("{n:?}").contains("hunter2"));
    let _ = WEBHOOK_URL_ENV;
}

/// Two schedulers started together on one store (per-second slots, runs longer than a slot)
/// run each slot once and never two runs at once; a missed slot runs once at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_run_each_slot_once() {
    for db in TestDb::all().await {
        let (a, b) = (db.open().await, db.open().await);
        let sched = Schedule::parse("* * * * * *", None).unwrap();
        let opts = SchedulerOptions {
            job: "test".into(),
            lease: "test".into(),
            lease_ttl: Duration::from_secs(10),
            max_sleep: Duration::from_millis(500),
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        let slots = Arc::new(Mutex::new(Vec::new()));
        let busy = Arc::new(AtomicBool::new(false));
        let job = |who: &'static str| {
            let (slots, busy) = (slots.clone(), busy.clone());
            move |slot: chrono::DateTime<chrono::Utc>| {
                let (slots, busy) = (slots.clone(), busy.clone());
                async move {
                    assert!(!busy.swap(true, Ordering::SeqCst), "two runs at once");
                    tokio::time::sleep(Duration::from_millis(1300)).await;
                    slots.lock().await.push((slot, who));
                    busy.store(false, Ordering::SeqCst);
                    Ok(())
                }
            }
        };
        let (sa, sb) = (sched.clone(), sched.clone());
        let (oa, ob) = (opts.clone(), opts.clone());
        let (ra, rb) = (rx.clone(), rx.clone());
        let (ja, jb) = (job("a"), job("b"));
        let ta = tokio::spawn(async move { schedule::run(&a, &sa, &oa, ra, ja).await });
        let tb = tokio::spawn(async move { schedule::run(&b, &sb, &ob, rb, jb).await });
        tokio::time::sleep(Duration::from_millis(5200)).await;
        tx.send(true).unwrap();
        let (ra, rb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
        let got = slots.lock().await.clone();
        let mut seen: Vec<_> = got.iter().map(|(s, _)| *s).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen.len(),
            got.len(),
            "a slot ran twice: {got:?} ({})",
            db.label
        );
        assert!(got.len() >= 2, "{got:?}");
        assert!(
            got.len() <= 5,
            "runs longer than a slot collapse the slots they cover: {got:?}"
        );
        assert_eq!(ra.ran.len() + rb.ran.len(), got.len());

        // Down for three days: the daily slot it missed runs once at start, not three times.
        let store = db.open().await;
        let daily = Schedule::parse("0 7 * * *", None).unwrap();
        let three_days_ago = chrono::Utc::now() - chrono::Duration::days(3);
        store
            .set_schedule_last_slot(
                "daily",
                &three_days_ago.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                false,
            )
            .await
            .unwrap();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let r2 = runs.clone();
        let o = SchedulerOptions {
            job: "daily".into(),
            ..opts.clone()
        };
        let s2 = store.clone();
        let t = tokio::spawn(async move {
            schedule::run(&s2, &daily, &o, rx, move |_| {
                let r = r2.clone();
                async move {
                    r.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tx.send(true).unwrap();
        let rep = t.await.unwrap().unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "one catch-up run ({})",
            db.label
        );
        assert_eq!(rep.ran.len(), 1);
        store.close().await;
        db.cleanup().await;
    }
}

fn bin(dir: &Path, emu_url: &str, db: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MASSPAY_BASE_URL", emu_url)
        .env("MASSPAY_API_KEY", masspay_emulator::SANDBOX_API_KEY)
        .env("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)
        .env("MASSPAY_TAX_DB", db);
    c
}

/// SIGTERM while a scheduled run is in progress: the run finishes (its notice delivered), then
/// the scheduler exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_run_finishes_it_and_exits_0() {
    let emu = common::emulator(20, 0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    let got = dir.path().join("got.json");
    let config = dir.path().join("masspay-tax.toml");
    std::fs::write(
        &config,
        format!(
            "[notify]\nstdout = false\ndigest = true\ncommand = [\"sh\", \"-c\", \"touch '{}'; sleep 2; cat > '{}'\"]\n",
            started.display(),
            got.display()
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    let mut child = bin(dir.path(), &emu.base_url(), &db)
        .args(["alerts", "schedule", "--cron", "* * * * * *"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !started.exists() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the first run never reached delivery"
        );
        if let Some(s) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the scheduler exited early ({s}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The run is in progress (its notice is being delivered): stop the scheduler.
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&got).expect("the run finished")).unwrap();
    assert!(!body["notices"].as_array().unwrap().is_empty());
    assert!(
        stderr.contains("SIGTERM: stopping after the run in progress"),
        "{stderr}"
    );
    assert!(
        stderr.contains("alerts run: tax year"),
        "each run is logged: {stderr}"
    );
    assert!(stderr.contains("stopped after 1 run(s)"), "{stderr}");
}

/// January 1: last year's alerts stay, the new year starts from nothing; the year is the one of
/// the run's start (MASSPAY_TAX_TODAY stands in for the clock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_year_boundary_keeps_last_years_alerts() {
    let emu = common::emulator(20, 0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    let run = |today: &str| {
        let out = bin(dir.path(), &emu.base_url(), &db)
            .env("MASSPAY_TAX_TODAY", today)
            .args(["alerts", "run", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let dec31 = run("2025-12-31T23:59:59Z");
    assert_eq!(dec31["summary"]["tax_year"], 2025);
    let old: Vec<String> = dec31["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["tax_year"], 2025, "one year throughout the run");
            a["user_token"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(!old.is_empty());
    let jan1 = run("2026-01-01T00:00:01Z");
    assert_eq!(jan1["summary"]["tax_year"], 2026);
    let new = jan1["alerts"].as_array().unwrap();
    assert!(
        new.iter()
            .all(|a| a["tax_year"] == 2026 && a["threshold"] == "2000.00"),
        "{new:?}"
    );
    let w8: Vec<&str> = new
        .iter()
        .filter(|a| a["state"] == "w8_missing")
        .map(|a| a["user_token"].as_str().unwrap())
        .collect();
    assert!(
        w8.iter().any(|t| old.iter().any(|o| o == t)),
        "the new year alerts afresh"
    );
    // Last year's alerts are kept: a late run for 2025 sends nothing again.
    let again = run("2025-12-31T23:59:59Z");
    assert_eq!(again["alerts"].as_array().unwrap().len(), 0);
    assert_eq!(again["summary"]["tax_year"], 2025);
}

/// The run reads only the payees whose state can be other than `none` (a SQL pre-filter on
/// the amount, residency and forms on file): its counts equal a walk over every payee of the
/// year judged one by one; `[alerts] tin_statuses` keeps only the alerts of those statuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prefilter_skips_only_quiet_payees_and_tin_statuses_filter() {
    use futures_util::TryStreamExt;
    use rust_decimal::Decimal;
    let emu = common::emulator(400, 0, 0).await;
    for db in TestDb::all().await {
        let store = db.open().await;
        let s = Settings::default();
        let year = masspay_emulator::default_tax_year();
        let c = common::client(&emu, 5);
        masspay_tax::sync::sync_year(&c, &store, &s.thresholds, year, "emulator", None)
            .await
            .unwrap();
        // Every payee, judged one by one.
        let view = masspay_tax::year::YearView::load(&store, &s, year)
            .await
            .unwrap();
        let approach = Decimal::new(8, 1);
        let (mut crossed, mut approaching, mut w8, mut all) = (0, 0, 0, 0);
        let mut payees = view.on_file(store.year_payees(year, None));
        while let Some(p) = payees.try_next().await.unwrap() {
            all += 1;
            let us = masspay_tax_rules::classify::is_us_or_territory(&p.0.country);
            let y = view.judge(p).unwrap();
            let amount = y.payee.amount_decimal().unwrap();
            if !us && amount > Decimal::ZERO && y.form.as_ref().is_none_or(|f| f.is_w9()) {
                w8 += 1;
            } else if y.decision.reportable_1099() {
                crossed += 1;
            } else if us && amount >= view.threshold * approach {
                approaching += 1;
            }
        }
        drop(payees);
        let (summary, alerts) = evaluate(&store, &s, year, &AlertOptions::default())
            .await
            .unwrap();
        assert_eq!(summary.payees, all, "{}", db.label);
        assert_eq!(
            (summary.crossed, summary.approaching, summary.w8_missing),
            (crossed, approaching, w8),
            "{}",
            db.label
        );
        assert_eq!(
            summary.none,
            all - crossed - approaching - w8,
            "{}",
            db.label
        );
        assert!(crossed > 0 && approaching > 0 && w8 > 0, "{summary:?}");
        assert!(alerts.iter().any(|a| a.tin_status != "missing"));

        // Only TINs missing: on a fresh store, exactly the earlier alerts of that status on the
        // 1099 side, and every W-8 alert.
        let fresh_db = if db.label == "sqlite" {
            TestDb::sqlite()
        } else {
            TestDb::postgres().await.unwrap()
        };
        let fresh = fresh_db.open().await;
        masspay_tax::sync::sync_year(&c, &fresh, &s.thresholds, year, "emulator", None)
            .await
            .unwrap();
        let opts = AlertOptions {
            tin_statuses: Some(vec!["missing".into()]),
            ..AlertOptions::default()
        };
        let (_, only) = evaluate(&fresh, &s, year, &opts).await.unwrap();
        let want: Vec<(&str, &str)> = alerts
            .iter()
            .filter(|a| a.state == "w8_missing" || a.tin_status == "missing")
            .map(|a| (a.user_token.as_str(), a.state.as_str()))
            .collect();
        let got: Vec<(&str, &str)> = only
            .iter()
            .map(|a| (a.user_token.as_str(), a.state.as_str()))
            .collect();
        assert_eq!(got, want, "{}", db.label);
        assert!(got.len() < alerts.len());
        fresh.close().await;
        fresh_db.cleanup().await;
        store.close().await;
        db.cleanup().await;
    }
}

/// `--confirm-history` (issue 12): alerts of payees near the threshold carry the year to date
/// from MassPay's transaction history (paged bare arrays), bounded per run; a later check
/// fetches only from where the last one left off, and still sees a payout added since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_threshold_alerts_are_confirmed_from_the_transaction_history() {
    use masspay_client::models::HistoryQuery;
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let emu = common::emulator(300, 0, 0).await;
    let c = common::client(&emu, 5);
    let db = TestDb::sqlite();
    let store = db.open().await;
    let s = Settings::default();
    let year = masspay_emulator::default_tax_year();
    masspay_tax::sync::sync_year(&c, &store, &s.thresholds, year, "emulator", None)
        .await
        .unwrap();
    let opts = AlertOptions {
        confirm_max: Some(4),
        ..AlertOptions::default()
    };
    let (summary, alerts) = masspay_tax::alerts::evaluate_with(&store, &s, year, &opts, Some(&c))
        .await
        .unwrap();
    assert!(
        (1..=4).contains(&summary.history_checked),
        "bounded: {summary:?}"
    );
    assert_eq!(
        summary.history_mismatches, 0,
        "the emulator's history adds up"
    );
    let checked: Vec<_> = alerts
        .iter()
        .filter(|a| a.history_amount.is_some())
        .collect();
    assert_eq!(checked.len(), summary.history_checked);
    for a in &checked {
        let h = Decimal::from_str(a.history_amount.as_deref().unwrap()).unwrap();
        assert_eq!(h, Decimal::from_str(&a.amount).unwrap(), "{}", a.user_token);
        assert_ne!(a.state, "w8_missing");
    }

    // Incremental: the next check starts where this one left off, and sees a payout added since.
    let mut strictly_fewer = false;
    for a in &checked {
        let token = &a.user_token;
        let first = store.ytd_confirmation(year, token).await.unwrap().unwrap();
        let all = c
            .history(
                Some(token),
                &HistoryQuery {
                    start_date: Some(format!("{year}-01-01")),
                    end_date: Some(format!("{year}-12-31")),
                    txn_type: Some("payout".into()),
                },
            )
            .await
            .unwrap();
        emu.add_to_year(year, token, Decimal::new(1234, 2)).unwrap();
        let h = masspay_tax::ytd::confirm(&c, &store, year, token)
            .await
            .unwrap();
        assert_eq!(
            h,
            Decimal::from_str(&first.history_amount).unwrap() + Decimal::new(1234, 2),
            "{token}"
        );
        let second = store.ytd_confirmation(year, token).await.unwrap().unwrap();
        assert!(second.resume_date >= first.resume_date);
        assert!(second.transactions as usize <= all.len() + 1);
        strictly_fewer |= (second.transactions as usize) < all.len();
    }
    assert!(
        strictly_fewer,
        "a later check reads less than the whole year"
    );
    store.close().await;
}
