//! Lease locks in the store (table `locks`), the same on SQLite and PostgreSQL: a named lease is
//! held by one holder until it expires; the holder renews it while working and releases it when
//! done. A holder that dies (kill -9, a lost machine) stops renewing, so its lease lapses and the
//! next one takes it over; on the same host a holder whose process is gone is replaced at once.
//!
//! Used by `sync` (lease [`SYNC_LEASE`]) so two syncs of one store never run at once, and meant
//! for any other single-runner job (a scheduler).

use crate::{Backend, Store, StoreError};
use std::fmt;
use std::time::{Duration, Instant};

/// The lease a sync holds while it runs.
pub const SYNC_LEASE: &str = "sync";

/// The lease an `alerts` run holds (scheduled or not), so two never run at once.
pub const ALERTS_LEASE: &str = "alerts";

/// Who holds (or wants) a lease: a unique id plus the process and host, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub id: String,
    pub host: String,
    pub pid: i64,
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {} on {}", self.pid, self.host)
    }
}

impl LeaseHolder {
    /// This process (a fresh id each call, so two holders in one process are distinct).
    pub fn this_process() -> LeaseHolder {
        let host = hostname();
        let pid = i64::from(std::process::id());
        let mut r = [0u8; 6];
        let _ = getrandom::fill(&mut r);
        LeaseHolder {
            id: format!("{host}:{pid}:{}", hex::encode(r)),
            host,
            pid,
        }
    }
}

fn hostname() -> String {
    let from_file = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    from_file
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown host".into())
}

/// Whether a process of this host is still running (only Linux can tell; elsewhere: yes).
fn process_alive(pid: i64) -> bool {
    #[cfg(target_os = "linux")]
    {
        if pid <= 0 {
            return false;
        }
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// A lease held by us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: LeaseHolder,
    pub ttl: Duration,
}

/// A lease as recorded (whoever holds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    pub name: String,
    pub holder_id: String,
    pub host: String,
    pub pid: i64,
    /// RFC 3339, UTC.
    pub acquired_at: String,
    /// Unix time in milliseconds.
    pub expires_at_ms: i64,
}

impl LeaseInfo {
    fn holder_text(&self) -> String {
        format!("process {} on {}", self.pid, self.host)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4)
}

/// SQLite answers "database is locked" when another connection writes for longer than the busy
/// timeout: for a lease that means "not now", not a failure.
fn is_busy(e: &StoreError) -> bool {
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => {
            let m = d.message().to_ascii_lowercase();
            m.contains("locked") || m.contains("busy")
        }
        _ => false,
    }
}

type LeaseRow = (String, String, String, i64, String, i64);

impl Store {
    /// Takes lease `name` for `holder` for `ttl` if it is free, expired, already ours, or held by
    /// a process of this host that no longer runs. `None` when someone else holds it.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let now = now_ms();
        let acquired = sqlx::query(
            "INSERT INTO locks (name, holder, host, pid, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, \
             acquired_at = excluded.acquired_at, expires_at = excluded.expires_at \
             WHERE locks.expires_at <= $7 OR locks.holder = $2",
        )
        .bind(name.to_string())
        .bind(holder.id.clone())
        .bind(holder.host.clone())
        .bind(holder.pid)
        .bind(crate::now())
        .bind(now.saturating_add(ttl_ms(ttl)))
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let lease = || Lease {
            name: name.to_string(),
            holder: holder.clone(),
            ttl,
        };
        if acquired {
            return Ok(Some(lease()));
        }
        // A holder of this host whose process is gone (killed) will never renew: take over now.
        if let Some(info) = self.lease_info(name).await?
            && info.host == holder.host
            && info.pid != holder.pid
            && !process_alive(info.pid)
        {
            let stolen = sqlx::query(
                "UPDATE locks SET holder = $1, host = $2, pid = $3, acquired_at = $4, expires_at = $5 \
                 WHERE name = $6 AND holder = $7",
            )
            .bind(holder.id.clone())
            .bind(holder.host.clone())
            .bind(holder.pid)
            .bind(crate::now())
            .bind(now_ms().saturating_add(ttl_ms(ttl)))
            .bind(name.to_string())
            .bind(info.holder_id.clone())
            .execute(&self.pool)
            .await?
            .rows_affected()
                == 1;
            if stolen {
                tracing::info!(lease = name, dead = %info.holder_text(), "took over the lease of a process that no longer runs");
                return Ok(Some(lease()));
            }
        }
        Ok(None)
    }

    /// [`Self::try_lease`], retried until `wait` has passed; then [`StoreError::Busy`] naming the
    /// holder and since when it holds the lease.
    pub async fn lease_wait(
        &self,
        name: &str,
        holder: &LeaseHolder,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, StoreError> {
        let start = Instant::now();
        let mut told = false;
        loop {
            match self.try_lease(name, holder, ttl).await {
                Ok(Some(lease)) => return Ok(lease),
                Ok(None) => {}
                Err(e) if is_busy(&e) => {}
                Err(e) => return Err(e),
            }
            let info = match self.lease_info(name).await {
                Ok(i) => i,
                Err(e) if is_busy(&e) => None,
                Err(e) => return Err(e),
            };
            let elapsed = start.elapsed();
            if elapsed >= wait {
                return Err(StoreError::Busy {
                    name: name.to_string(),
                    holder: info
                        .as_ref()
                        .map_or("another process".into(), LeaseInfo::holder_text),
                    since: info.map_or("a moment ago".into(), |i| i.acquired_at),
                });
            }
            if !told {
                told = true;
                if let Some(i) = &info {
                    tracing::warn!(
                        lease = name,
                        holder = %i.holder_text(),
                        since = %i.acquired_at,
                        "waiting up to {} s for another {name} of this store to finish",
                        wait.as_secs()
                    );
                }
            }
            let pause = Duration::from_millis(200).min(wait - elapsed);
            tokio::time::sleep(pause.max(Duration::from_millis(10))).await;
        }
    }

    /// Extends a lease we hold by its ttl from now. `false` when it is no longer ours (it
    /// expired and someone else took it).
    pub async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("UPDATE locks SET expires_at = $1 WHERE name = $2 AND holder = $3")
                .bind(now_ms().saturating_add(ttl_ms(lease.ttl)))
                .bind(lease.name.clone())
                .bind(lease.holder.id.clone())
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Gives a lease up (nothing happens when it is no longer ours).
    pub async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM locks WHERE name = $1 AND holder = $2")
            .bind(lease.name.clone())
            .bind(lease.holder.id.clone())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Who holds lease `name`, if it is recorded (it may have expired).
    pub async fn lease_info(&self, name: &str) -> Result<Option<LeaseInfo>, StoreError> {
        let row: Option<LeaseRow> = sqlx::query_as(
            "SELECT name, holder, host, pid, acquired_at, expires_at FROM locks WHERE name = $1",
        )
        .bind(name.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(name, holder_id, host, pid, acquired_at, expires_at_ms)| LeaseInfo {
                name,
                holder_id,
                host,
                pid,
                acquired_at,
                expires_at_ms,
            },
        ))
    }

    /// The last slot a scheduled job `job` ran for (RFC 3339, UTC), kept in `meta` so a
    /// scheduler that was down runs a missed slot once, and two schedulers never run one slot
    /// twice.
    pub async fn schedule_last_slot(&self, job: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(format!("schedule:{job}:last_slot"))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records `slot` as the last slot `job` ran for; `only_if_absent`: only when none is
    /// recorded yet (a scheduler's first start).
    pub async fn set_schedule_last_slot(
        &self,
        job: &str,
        slot: &str,
        only_if_absent: bool,
    ) -> Result<(), StoreError> {
        let sql = if only_if_absent {
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
        } else {
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        };
        sqlx::query(sql)
            .bind(format!("schedule:{job}:last_slot"))
            .bind(slot.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Renews `lease` in the background (every third of its ttl) until [`LeaseKeeper::release`]
    /// or drop (then it lapses at its expiry).
    pub fn keep_lease(&self, lease: Lease) -> LeaseKeeper {
        let store = self.clone();
        let every = (lease.ttl / 3).max(Duration::from_millis(50));
        let l = lease.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.renew(&l).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(lease = %l.name, "the lease expired and was taken by another process");
                        return;
                    }
                    // SQLite: our own long write may hold the database; try again next time.
                    Err(e) if is_busy(&e) || store.backend == Backend::Sqlite => {
                        tracing::debug!(lease = %l.name, error = %e, "lease renewal postponed");
                    }
                    Err(e) => {
                        tracing::warn!(lease = %l.name, error = %e, "could not renew the lease")
                    }
                }
            }
        });
        LeaseKeeper {
            store: self.clone(),
            lease,
            task,
        }
    }
}

/// A lease renewed in the background; see [`Store::keep_lease`].
pub struct LeaseKeeper {
    store: Store,
    lease: Lease,
    task: tokio::task::JoinHandle<()>,
}

impl LeaseKeeper {
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Stops renewing and gives the lease up.
    pub async fn release(self) -> Result<(), StoreError> {
        self.task.abort();
        self.store.release(&self.lease).await
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}
