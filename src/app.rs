//! `crier run`: open the log, take the single-instance lock, start the
//! delivery workers and the feed watchers, stop gracefully.

use std::sync::Arc;

use anyhow::Context;
use crier_storage::Store;
use tokio_util::sync::CancellationToken;

use crate::alerts::Alerts;
use crate::config::Config;
use crate::db::Db;
use crate::dblocation::DbLocation;
use crate::engine::Engine;
use crate::instances::Me;
use crate::poller::Poller;
use crate::sources::{Fetcher, FetcherConfig};
use crate::supervise::supervise;
use crate::targets::{self, BuildOptions};

pub use crate::lock::InstanceLock;

/// Open (creating folders as needed) the configured database.
pub fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    cfg.db_location().open()
}

/// How this instance holds the database: alone (the SQLite file's lock),
/// or shared with other instances through leases (PostgreSQL).
pub enum Hold {
    Alone(InstanceLock),
    Shared,
}

/// Open the database. SQLite: take the file's single-instance lock first
/// (crash recovery must not race another process). PostgreSQL: any number
/// of instances share the database; the work is split by leases
/// (`share.rs`), and crash recovery runs per target when its lease is
/// taken. Blocking.
fn open_held(location: &DbLocation, me: &Me) -> anyhow::Result<(Hold, Store)> {
    let (hold, mut store) = match location {
        DbLocation::Sqlite(path) => {
            let lock = InstanceLock::acquire(path)?;
            (Hold::Alone(lock), location.open()?)
        }
        DbLocation::Postgres(_) => (Hold::Shared, location.open()?),
    };
    store
        .check_writable()
        .with_context(|| format!("the database {location} does not take writes"))?;
    match &hold {
        Hold::Alone(_) => me.become_active(&mut store),
        Hold::Shared => me.beat(&mut store, "shared"),
    }
    .with_context(|| format!("cannot record this instance in {location}"))?;
    Ok((hold, store))
}

pub fn fetcher_for(cfg: &Config) -> anyhow::Result<Fetcher> {
    Fetcher::new(FetcherConfig {
        connect_timeout: cfg.sources.connect_timeout.0,
        total_timeout: cfg.sources.timeout.0,
        max_redirects: 10,
        per_host_concurrency: cfg.sources.per_host_concurrency,
        default_user_agent: cfg.sources.user_agent.0.clone(),
        guard: crate::sources::guard::GuardPolicy {
            allow_private: cfg.commands.allow_private_urls,
            allow_hosts: cfg.commands.allow_hosts.clone(),
        },
        body_cap: cfg.sources.body_cap,
        max_items: cfg.sources.max_items,
        ..FetcherConfig::default()
    })
    .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))
}

/// Run until `shutdown` is cancelled.
pub async fn run(cfg: Config, opts: BuildOptions, outer: CancellationToken) -> anyhow::Result<()> {
    // Everything below stops on `shutdown`: the caller's signal, or the
    // database taken over by another instance.
    let shutdown = outer.child_token();
    let cfg = Arc::new(cfg);
    let location = cfg.db_location();
    let me = Me::new();
    let (hold, store) = {
        let (location, me) = (location.clone(), me.clone());
        tokio::task::spawn_blocking(move || open_held(&location, &me))
            .await
            .context("opening the database")??
    };
    let shared = matches!(hold, Hold::Shared);
    let db = Db::new(store);
    let listener = match cfg.http.listen_addr() {
        Some(addr) => Some(crate::http::bind(addr.map_err(anyhow::Error::msg)?).await?),
        None => None,
    };
    match &hold {
        Hold::Alone(lock) => {
            tracing::info!(database = %location, lock = %lock.real.display(), feeds = cfg.feeds.len(), targets = cfg.targets.len(), "starting")
        }
        Hold::Shared => {
            tracing::info!(database = %location, instance = %me.id(), lease = ?cfg.storage.lease(), feeds = cfg.feeds.len(), targets = cfg.targets.len(), "starting; the work is shared with the other instances on this database through leases")
        }
    }

    let mut opts = opts;
    opts.kv = Some(Arc::new(crate::kv::DbKv(db.clone())));
    let runtimes = targets::build(&cfg, &opts)?;
    for (name, rt) in &runtimes {
        let n = name.clone();
        if let Some(st) = db.call(move |s| s.target_state(&n)).await? {
            if let Some(addr) = &st.address_override {
                rt.target.set_address(addr);
            }
            if let Some(reason) = &st.disabled_reason {
                tracing::warn!(target_name = %name, reason = %reason, "target is disabled; its deliveries wait (crier retry --target {name} re-enables it)");
            }
        }
    }
    let (alerts, alert_rx) = Alerts::channel();
    let known_targets: Vec<String> = runtimes.keys().cloned().collect();
    let engine = Engine::with_alerts(
        db.clone(),
        runtimes,
        targets::feed_render_options(&cfg),
        cfg.delivery.clone(),
        alerts.clone(),
    );
    if let Hold::Alone(lock) = &hold {
        engine.recover(lock).await?;
    }
    for t in &cfg.targets {
        (engine.telemetry().metrics).set_platform(&t.name.0, t.kind);
    }
    (engine.telemetry().metrics).set_feed_count(cfg.feeds.len());
    let fetcher = Arc::new(fetcher_for(&cfg)?);
    let poller = Poller::with_alerts(
        db.clone(),
        fetcher.clone(),
        engine.clone(),
        cfg.clone(),
        alerts.clone(),
    );
    // Feeds added from chat (/subscribe) are watched beside config feeds.
    for mut f in db.call(|s| s.dynamic_feeds()).await? {
        f.targets.retain(|t| known_targets.contains(t));
        if f.targets.is_empty() {
            tracing::warn!(feed = %f.name, "a feed added from chat has no configured target left; not watched");
            continue;
        }
        if !poller.add_feed(crate::commands::dynamic_feed_config(&f)) {
            tracing::warn!(feed = %f.name, "a feed added from chat has the name of a config feed; not watched");
        }
    }
    poller.resume_paused().await?;

    // The command layer and its chat front-ends.
    let command_center = crate::commands::CommandCenter::new(
        db.clone(),
        engine.clone(),
        poller.clone(),
        cfg.clone(),
    )?;
    // Commands answer "internal error" when they panic.
    let handler = crate::supervise::GuardedHandler::new(command_center.clone(), alerts.clone());
    let mut notifiers: Vec<Arc<dyn crate::alerts::Notifier>> = Vec::new();
    let mut frontends = tokio::task::JoinSet::new();
    let mut shared_frontends = Vec::new();
    // Front-ends that take pushed updates live as long as the listener.
    let mut hooked = Vec::new();
    let env = crier_bots::platform::FrontendEnv {
        public_url: cfg.http.public_url.as_ref().map(|u| u.0.clone()),
    };
    for p in &cfg.platforms {
        let Some(section) = &p.section else { continue };
        let Some(fe) = p
            .platform
            .frontend(&**section, handler.clone(), &env)
            .map_err(anyhow::Error::msg)?
        else {
            continue;
        };
        notifiers.push(fe.notifier.clone());
        if fe.hooks.is_empty() && shared {
            // One instance runs it (one getUpdates poller, one gateway
            // session per bot): the lease keeper starts it where it holds
            // the front-end's lease.
            shared_frontends.push(crate::share::SharedFrontend {
                name: p.name().into(),
                run: fe.run.clone(),
            });
        } else if fe.hooks.is_empty() {
            let run = fe.run.clone();
            frontends.spawn(supervise(
                "front-end",
                p.name().into(),
                alerts.clone(),
                shutdown.clone(),
                {
                    let sd = shutdown.clone();
                    move || run(sd.clone())
                },
            ));
        } else {
            hooked.push((p.name(), fe));
        }
    }
    let alert_rx = Arc::new(tokio::sync::Mutex::new(alert_rx));
    frontends.spawn(supervise(
        "alert dispatcher",
        "alerts".into(),
        alerts.clone(),
        shutdown.clone(),
        {
            let (db, sd) = (db.clone(), shutdown.clone());
            move || {
                let (db, rx, notifiers, sd) =
                    (db.clone(), alert_rx.clone(), notifiers.clone(), sd.clone());
                async move { crate::alerts::dispatch(db, &mut *rx.lock().await, notifiers, sd).await }
            }
        },
    ));

    if !shared {
        // Shared: the lease keeper beats, once a round.
        frontends.spawn(supervise(
            "heartbeat",
            "instance".into(),
            alerts.clone(),
            shutdown.clone(),
            {
                let (db, sd, me) = (db.clone(), shutdown.clone(), me.clone());
                move || me.clone().run_beats(db.clone(), "active", sd.clone())
            },
        ));
    }
    frontends.spawn(supervise(
        "wake-up watcher",
        "wakeup".into(),
        alerts.clone(),
        shutdown.clone(),
        {
            let (db, engine, sd) = (db.clone(), engine.clone(), shutdown.clone());
            let poller = poller.clone();
            move || crate::wakeup::watch(db.clone(), engine.clone(), poller.clone(), sd.clone())
        },
    ));
    let mut listening = tokio::task::JoinSet::new();
    if let Some(listener) = listener {
        let mut mounts = Vec::new();
        for (name, fe) in &mut hooked {
            for hook in fe.hooks.drain(..) {
                mounts.push(crate::http::hooks::mount(name, hook));
            }
        }
        // WebSub callbacks and WordPress hooks, and the subscription manager.
        let push = crate::websub::Push::new(
            db.clone(),
            poller.clone(),
            fetcher.clone(),
            cfg.clone(),
            engine.telemetry().clone(),
        );
        mounts.extend(push.mounts());
        if shared {
            // Every instance takes pushes (its listener), one manages the
            // hub subscriptions.
            shared_frontends.push(crate::share::SharedFrontend {
                name: "websub".into(),
                run: Arc::new(move |sd| Box::pin(push.clone().run(sd))),
            });
        } else {
            frontends.spawn(supervise(
                "websub",
                "websub".into(),
                alerts.clone(),
                shutdown.clone(),
                {
                    let sd = shutdown.clone();
                    move || push.clone().run(sd.clone())
                },
            ));
        }
        listening.spawn(crate::http::start(
            listener,
            cfg.clone(),
            db.clone(),
            command_center.clone(),
            engine.telemetry().clone(),
            mounts,
            shutdown.clone(),
        ));
        for (name, fe) in hooked.drain(..) {
            let run = fe.run.clone();
            listening.spawn(supervise(
                "front-end",
                format!("{name}-webhook"),
                alerts.clone(),
                shutdown.clone(),
                {
                    let sd = shutdown.clone();
                    move || run(sd.clone())
                },
            ));
        }
    }
    if let Some((name, _)) = hooked.first() {
        anyhow::bail!("the {name} front-end takes pushed updates: it needs [http] listen");
    }

    let keeper = shared.then(|| {
        crate::share::Keeper::new(
            db.clone(),
            me.clone(),
            cfg.storage.lease(),
            poller.clone(),
            engine.clone(),
            std::mem::take(&mut shared_frontends),
            alerts.clone(),
        )
    });
    let mut workers = if shared {
        tokio::task::JoinSet::new()
    } else {
        engine.spawn_workers(shutdown.clone())
    };
    let mut watchers = poller.spawn(shutdown.clone());
    if let Some(keeper) = &keeper {
        let (keeper, sd) = (keeper.clone(), shutdown.clone());
        frontends.spawn(supervise(
            "lease keeper",
            "leases".into(),
            alerts.clone(),
            shutdown.clone(),
            move || keeper.clone().run(sd.clone()),
        ));
    }

    let stood_down = db.stood_down();
    tokio::select! {
        _ = outer.cancelled() => {}
        _ = stood_down.cancelled() => {}
    }
    shutdown.cancel();
    tracing::info!("shutting down: no new work; finishing deliveries in flight");
    let grace = cfg.delivery.shutdown_grace.0;
    let finished = tokio::time::timeout(grace, async {
        if let Some(keeper) = &keeper {
            // Leased tasks stop, then the leases go back at once.
            keeper.hand_back().await;
        }
        while workers.join_next().await.is_some() {}
        while watchers.join_next().await.is_some() {}
        while listening.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            ?grace,
            "deliveries still in flight after the grace period; the next start resumes them"
        );
        workers.abort_all();
        watchers.abort_all();
        listening.abort_all();
    }
    if !stood_down.is_cancelled() {
        let m = me.clone();
        if let Err(e) = db.call(move |s| m.forget(s)).await {
            tracing::debug!(error = %e, "cannot remove this instance from the list");
        }
    }
    drop(engine);
    drop(poller);
    drop(keeper);
    drop(db);
    drop(hold);
    if stood_down.is_cancelled() {
        anyhow::bail!(
            "stopped: {} (restart it to wait as a standby)",
            crier_storage::Error::LostInstanceLock
        );
    }
    tracing::info!("stopped");
    Ok(())
}
