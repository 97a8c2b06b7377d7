//! Browsers shared between tests. Starting ChromeDriver and Chromium is the
//! most expensive thing a browser test does, so a browser outlives the test
//! that started it: the next test borrows it and gets a new tab (see
//! `Visitor::new` for what is reset). At most one browser per core exists,
//! whatever `--test-threads` says; a test waits for one to be free. A
//! browser borrowed by a test that fails is not lent again. The browsers
//! left at the end end with the test process (`touchpoint_e2e::Browser`).

use std::ops::Deref;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use touchpoint_e2e::Browser;

struct Pool {
    /// Browsers nobody uses, and how many exist.
    state: Mutex<(Vec<Browser>, usize)>,
    /// Signalled when a browser is given back or ends.
    freed: Condvar,
}

static POOL: Pool = Pool {
    state: Mutex::new((Vec::new(), 0)),
    freed: Condvar::new(),
};

fn state() -> MutexGuard<'static, (Vec<Browser>, usize)> {
    POOL.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A browser borrowed from the pool; given back on drop.
pub struct Lease(Option<Browser>);

impl Lease {
    /// A free browser, a new one if there are fewer than cores, or the
    /// next one given back.
    pub fn take() -> Lease {
        let most = std::thread::available_parallelism().map_or(2, usize::from);
        let mut pool = state();
        loop {
            if let Some(browser) = pool.0.pop() {
                return Lease(Some(browser));
            }
            if pool.1 < most {
                pool.1 += 1;
                drop(pool);
                return match Browser::start(1024, 700) {
                    Ok(browser) => Lease(Some(browser)),
                    Err(e) => {
                        state().1 -= 1;
                        POOL.freed.notify_one();
                        panic!("starting a browser: {e:#}");
                    }
                };
            }
            pool = POOL
                .freed
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Deref for Lease {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        self.0.as_ref().unwrap()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let browser = self.0.take().unwrap();
        if std::thread::panicking() {
            // Whatever state the failure left it in ends with it.
            drop(browser);
            state().1 -= 1;
        } else {
            state().0.push(browser);
        }
        POOL.freed.notify_one();
    }
}
