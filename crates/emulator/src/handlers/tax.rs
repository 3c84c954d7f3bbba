//! `GET /payout/tax` (streamed) and `GET /payout/{user_token}/tax`.

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// GET /payout/tax

enum Phase {
    Rows,
    Abort,
    Done,
}

struct TaxStream {
    pop: Population,
    year: i32,
    threshold: Option<Decimal>,
    pos: u64,
    end: u64,
    drop_at: Option<u64>,
    started: bool,
    emitted: bool,
    phase: Phase,
    added: HashMap<String, Decimal>,
}

pub(crate) async fn tax(
    State(app): State<Arc<AppState>>,
    dir: Option<Extension<Directive>>,
    q: Params,
) -> Response {
    let m = match params(q) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let year = match parse_year(&m) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let threshold = match param(&m, "amount_threshold") {
        None => None,
        Some(s) => match parse_number_text(s) {
            Some(d) => Some(d),
            None => {
                return ApiError::bad_request(
                    "Invalid amount_threshold",
                    vec![format!("amount_threshold must be a number, got '{s}'")],
                )
                .into_response();
            }
        },
    };
    if let Some(path) = &app.config.recorded_tax_body {
        return recorded_body(path).await;
    }
    let dropping = matches!(directive(dir), Directive::Drop);
    let pop = app.pop.clone();
    let end = pop.len();
    let st = TaxStream {
        pop,
        year,
        threshold,
        pos: 0,
        end,
        drop_at: dropping.then_some((end / 2).max(1)),
        started: false,
        emitted: false,
        phase: Phase::Rows,
        added: app.sim().added_in(year),
    };
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        match st.phase {
            Phase::Done => None,
            Phase::Abort => {
                // Let the partial body reach the client before the connection is cut.
                tokio::time::sleep(Duration::from_millis(30)).await;
                st.phase = Phase::Done;
                Some((
                    Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "emulated dropped connection",
                    )),
                    st,
                ))
            }
            Phase::Rows => {
                let mut buf = Vec::with_capacity(CHUNK_BYTES + 1024);
                if !st.started {
                    buf.push(b'[');
                    st.started = true;
                }
                let limit = st.drop_at.unwrap_or(st.end).min(st.end);
                let mut scanned = 0u32;
                while st.pos < limit && buf.len() < CHUNK_BYTES {
                    if !st.added.is_empty() {
                        // A growing year: payees with sandbox additions get their new balance.
                        if let Some(mut p) = st.pop.payee_at(st.year, st.pos) {
                            if let Some(add) = st.added.get(&p.user_token) {
                                p.balance = (p.balance_cents() + add).normalize();
                                p.balance_text = p.balance.to_string();
                            }
                            if st.threshold.is_none_or(|t| p.balance > t) {
                                if st.emitted {
                                    buf.push(b',');
                                }
                                p.write_tax_json(&mut buf);
                                st.emitted = true;
                            }
                        }
                        st.pos += 1;
                        continue;
                    }
                    let keep = match st.threshold {
                        None => true,
                        Some(t) => st
                            .pop
                            .balance_at(st.year, st.pos)
                            .is_some_and(|(_, b)| b > t),
                    };
                    if keep && let Some(p) = st.pop.payee_at(st.year, st.pos) {
                        if st.emitted {
                            buf.push(b',');
                        }
                        p.write_tax_json(&mut buf);
                        st.emitted = true;
                    }
                    st.pos += 1;
                    scanned += 1;
                    if scanned.is_multiple_of(4096) {
                        tokio::task::yield_now().await;
                    }
                }
                if st.pos >= limit {
                    if st.drop_at.is_some() {
                        st.phase = Phase::Abort;
                    } else {
                        buf.push(b']');
                        st.phase = Phase::Done;
                    }
                }
                Some((Ok(Bytes::from(buf)), st))
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if dropping {
        resp.extensions_mut().insert(PartialBody);
    }
    resp
}

/// The recorded body, streamed from its file in [`CHUNK_BYTES`] pieces.
async fn recorded_body(path: &std::path::Path) -> Response {
    use tokio::io::AsyncReadExt;
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("the recorded tax body cannot be read: {e}");
            return ApiError::internal().into_response();
        }
    };
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK_BYTES];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Writes the body `GET /payout/tax?tax_year=YEAR&amount_threshold=THRESHOLD` answers for the
/// seeded population (no sandbox additions, no faults): the recording a benchmark serves with
/// [`crate::EmulatorConfig::recorded_tax_body`]. Returns the rows written.
pub fn write_tax_body(
    pop: &Population,
    year: i32,
    threshold: Option<Decimal>,
    out: &mut impl io::Write,
) -> io::Result<u64> {
    let mut buf = Vec::with_capacity(CHUNK_BYTES + 1024);
    buf.push(b'[');
    let mut rows = 0u64;
    for pos in 0..pop.len() {
        let keep = threshold.is_none_or(|t| pop.balance_at(year, pos).is_some_and(|(_, b)| b > t));
        if keep && let Some(p) = pop.payee_at(year, pos) {
            if rows > 0 {
                buf.push(b',');
            }
            p.write_tax_json(&mut buf);
            rows += 1;
        }
        if buf.len() >= CHUNK_BYTES {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.push(b']');
    out.write_all(&buf)?;
    Ok(rows)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct InterviewOut {
    interview_url: String,
}

pub(crate) async fn tax_interview(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
    q: Params,
) -> Response {
    let m = match params(q) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if app.pop.position_of_token(&token).is_none() {
        return unknown_user(&token).into_response();
    }
    let session = uuid_from(&mut rng_from(mix(app.pop.seed(), fnv1a(token.as_bytes()))));
    let mut url = format!("https://emulator.masspay.invalid/tax/interview/{session}");
    if let Some(r) = param(&m, "return_url") {
        url.push_str("?return_url=");
        url.push_str(&percent_encode(r));
    }
    json_ok(&InterviewOut { interview_url: url })
}
