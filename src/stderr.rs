//! The process's stderr, written in order by a thread of its own. A terminal that stops
//! reading (Ctrl-S, a pager paused on purpose) then stops that thread, never the runtime
//! thread, which renews the lock and watches the deadline and signals while notes, logs
//! and remote output are written.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, SyncSender, channel, sync_channel};

/// What the writing thread is asked to do, in order.
enum Job {
    Write(Vec<u8>),
    /// Say when everything queued before is written.
    Flushed(SyncSender<()>),
}

/// A queue in front of a writer, drained by a thread of its own.
pub struct Queue {
    tx: Option<Sender<Job>>,
}

impl Queue {
    /// Start the thread that writes to `target`. Without a thread (the system refused
    /// one), writes happen at once, as they would without the queue.
    pub fn new(mut target: Box<dyn Write + Send>) -> Self {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("stderr".to_owned())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Write(data) => {
                            let _ = target.write_all(&data).and_then(|()| target.flush());
                        }
                        Job::Flushed(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        Self {
            tx: spawned.ok().map(|_| tx),
        }
    }

    /// Queue `data`; returns at once.
    pub fn write(&self, data: &[u8]) {
        let queued = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Write(data.to_vec())).is_ok());
        if !queued {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(data).and_then(|()| err.flush());
        }
    }

    /// Wait until everything queued so far is written: before the process ends, before a
    /// prompt, and on a thread of its own that holds back remote output meanwhile.
    pub fn flush(&self) {
        let Some(tx) = &self.tx else {
            return;
        };
        let (done, written) = sync_channel(1);
        if tx.send(Job::Flushed(done)).is_ok() {
            let _ = written.recv();
        }
    }
}

/// The process's stderr queue.
pub fn process() -> &'static Queue {
    static STDERR: OnceLock<Queue> = OnceLock::new();
    STDERR.get_or_init(|| Queue::new(Box::new(std::io::stderr())))
}

/// Logs (tracing) write through the queue too, in order with everything else.
pub struct Logs;

impl Write for Logs {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        process().write(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    use super::*;

    /// Whether the terminal reads, and what it took.
    type Screen = Mutex<(bool, Vec<u8>)>;

    /// A writer that blocks until opened, as a terminal stopped by Ctrl-S does; what it
    /// took is kept.
    #[derive(Clone, Default)]
    pub struct Stopped {
        state: Arc<(Screen, Condvar)>,
    }

    impl Stopped {
        /// Let writes through.
        pub fn open(&self) {
            let (lock, cv) = &*self.state;
            lock.lock().unwrap().0 = true;
            cv.notify_all();
        }

        /// What was written.
        pub fn written(&self) -> Vec<u8> {
            self.state.0.lock().unwrap().1.clone()
        }
    }

    impl Write for Stopped {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            let (lock, cv) = &*self.state;
            let mut s = cv.wait_while(lock.lock().unwrap(), |s| !s.0).unwrap();
            s.1.extend_from_slice(data);
            Ok(data.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Notes to a stopped terminal return at once: a task beside them (the lock's
    /// renewal) goes on; once the terminal reads again, everything arrives, in order.
    #[tokio::test(flavor = "current_thread")]
    async fn a_stopped_terminal_never_stops_the_runtime() {
        let terminal = Stopped::default();
        let queue = Queue::new(Box::new(terminal.clone()));
        let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = Arc::clone(&ticks);
        let beside = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        for i in 0..100 {
            queue.write(format!("note {i}\n").as_bytes());
            tokio::task::yield_now().await;
        }
        tokio::time::timeout(Duration::from_secs(5), beside)
            .await
            .expect("the task beside the notes ran while the terminal was stopped")
            .unwrap();
        assert_eq!(ticks.load(std::sync::atomic::Ordering::SeqCst), 5);
        assert!(terminal.written().is_empty());
        terminal.open();
        queue.flush();
        let expected: String = (0..100).map(|i| format!("note {i}\n")).collect();
        assert_eq!(String::from_utf8(terminal.written()).unwrap(), expected);
    }
}
