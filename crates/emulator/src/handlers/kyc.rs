//! KYC sessions and ID uploads (an upload releases the hold after review, see [`crate::sim`]).

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// KYC and tax interview

#[derive(Serialize)]
struct KycOut {
    provider: String,
    session_id: String,
    session_time: String,
    status: String,
    resp: serde_json::Map<String, serde_json::Value>,
}

pub(crate) async fn kyc_sessions(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    let Some(p) = app.pop.by_token(default_tax_year(), &token) else {
        return unknown_user(&token).into_response();
    };
    let mut sessions = data::kyc_sessions(app.pop.seed(), &p);
    if let Some(u) = app.sim().users.get(&token)
        && u.uploaded_at.is_some()
    {
        let id = uuid_from(&mut rng_from(mix(
            app.pop.seed() ^ 0x75706c64,
            fnv1a(token.as_bytes()),
        )));
        let status = if u.released_at.is_some() {
            "Approved"
        } else {
            "Submitted"
        };
        sessions.push((
            "Veriff".to_string(),
            id,
            dates::format_timestamp_millis(u.uploaded_ms),
            status.to_string(),
        ));
    }
    let out: Vec<KycOut> = sessions
        .into_iter()
        .map(|(provider, session_id, session_time, status)| KycOut {
            provider,
            session_id,
            session_time,
            status,
            resp: serde_json::Map::new(),
        })
        .collect();
    json_ok(&out)
}

/// `POST /payout/user/{user_token}/kyc/id`: `IDUpload[]` (or one object), at most 10 MB.
pub(crate) async fn kyc_upload(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some(p) = app.pop.by_token(default_tax_year(), &token) else {
        return unknown_user(&token).into_response();
    };
    if body.len() > 10 * 1024 * 1024 {
        return ApiError::bad_request(
            "Upload too large",
            vec!["the uploaded images may be at most 10 MB in total".to_string()],
        )
        .into_response();
    }
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return ApiError::bad_request(
                "Invalid request body",
                vec!["expected IDUpload objects {type, content}".to_string()],
            )
            .into_response();
        }
    };
    let items: Vec<&serde_json::Value> = match &v {
        serde_json::Value::Array(a) => a.iter().collect(),
        o @ serde_json::Value::Object(_) => vec![o],
        _ => Vec::new(),
    };
    let valid = !items.is_empty()
        && items.iter().all(|i| {
            matches!(
                i.get("type").and_then(|t| t.as_str()),
                Some("face" | "document-front" | "document-back")
            ) && i
                .get("content")
                .and_then(|c| c.as_str())
                .is_some_and(|c| !c.is_empty())
        });
    if !valid {
        return ApiError::bad_request(
            "Invalid request body",
            vec![
                "each upload needs type face|document-front|document-back and base64 content"
                    .to_string(),
            ],
        )
        .into_response();
    }
    app.sim().upload(&p);
    json_ok(&serde_json::Value::Null)
}
