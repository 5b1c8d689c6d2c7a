//! A real SMTP server on loopback for the tests, built on the `mailin` protocol library: it
//! speaks SMTP over TCP and keeps every message it accepts. Recipients starting with `reject`
//! are refused with 550. It can be stopped (refusing connections) and started again on the
//! same port, to test an SMTP server that is down for a while.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
struct Collect {
    to: Vec<String>,
    data: Vec<u8>,
    received: Arc<Mutex<Vec<Received>>>,
    hold: Arc<AtomicBool>,
}

impl Handler for Collect {
    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("reject") {
            return Response::custom(550, "5.1.1 no such user here".into());
        }
        self.to.push(to.to_string());
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            data: String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned(),
        });
        // Kept (the server has the message) but not yet acknowledged to the client.
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        mailin::response::OK
    }
}

pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    running: Arc<AtomicBool>,
    /// While set, each message is kept but its "250 OK" is held back.
    hold: Arc<AtomicBool>,
}

impl SmtpServer {
    /// Starts on a free loopback port.
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = SmtpServer {
            port,
            received: Arc::default(),
            running: Arc::new(AtomicBool::new(true)),
            hold: Arc::default(),
        };
        server.serve(listener);
        server
    }

    /// Stops accepting and closes open connections: the server is down.
    pub fn stop(&self) {
        self.running.store(false, Ordering::SeqCst);
        // Wait for the accept loop to notice and release the port.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Starts again on the same port, keeping what was received.
    pub fn restart(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.running.store(true, Ordering::SeqCst);
        self.serve(listener);
    }

    /// Keeps each message but holds back the reply that it was accepted (`true`), or sends
    /// the replies held back and those after (`false`).
    pub fn hold_replies(&self, on: bool) {
        self.hold.store(on, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn serve(&self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let running = self.running.clone();
        let received = self.received.clone();
        let hold = self.hold.clone();
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, peer)) => {
                        let handler = Collect {
                            to: Vec::new(),
                            data: Vec::new(),
                            received: received.clone(),
                            hold: hold.clone(),
                        };
                        let running = running.clone();
                        std::thread::spawn(move || {
                            let _ = session(stream, peer.ip(), handler, &running);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
    }
}

fn session(
    stream: TcpStream,
    ip: IpAddr,
    handler: Collect,
    running: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    // Small replies must not wait for the client's delayed acknowledgement.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut session = SessionBuilder::new("test-smtp").build(ip, handler);
    session.greeting().write_to(&mut out)?;
    let mut line = Vec::new();
    loop {
        if !running.load(Ordering::SeqCst) {
            return Ok(());
        }
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        }
        let response = session.process(&line);
        line.clear();
        match response.action {
            Action::NoReply => {}
            Action::Close => {
                out.write_all(&response.buffer()?)?;
                return Ok(());
            }
            _ => out.write_all(&response.buffer()?)?,
        }
        out.flush()?;
    }
}
