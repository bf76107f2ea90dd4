//! Specs served over HTTP load like files, with relative `$ref`s resolved
//! against the document's URL. The server is a loopback thread.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;

/// Serves files under `root` for `requests` requests, then stops.
fn serve(root: PathBuf, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Drain headers.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let response = match std::fs::read(root.join(path)) {
                Ok(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_multi_file_spec_loads_from_a_url() {
    let base = serve(common::workspace_root().join("fixtures"), 16);
    let api = sdk_gen::load(&format!("{base}/multi-file/openapi.yaml")).expect("loads over HTTP");
    assert!(api.warnings.is_empty(), "{:?}", api.warnings);
    assert_eq!(api.operations.len(), 2);
    assert!(api.types.iter().any(|t| t.name == "Breed"));
    // A relative server URL is resolved against the spec's URL.
    assert_eq!(api.servers[0].url, format!("{base}/v1"));
}

#[test]
fn a_missing_url_is_a_fetch_error_with_the_status() {
    let base = serve(common::workspace_root().join("fixtures"), 1);
    let err = sdk_gen::load(&format!("{base}/nope.yaml")).expect_err("404");
    let msg = err.to_string();
    assert!(msg.contains("cannot fetch") && msg.contains("404"), "{msg}");
}
