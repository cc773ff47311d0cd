//! Transport: JSON-RPC over HTTP/1.1 (hyper) and the `signatureSubscribe` websocket that
//! @solana/web3.js uses to confirm transactions (tokio-tungstenite).
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::ledger::Ledger;
use crate::rpc;

pub async fn serve_http(listener: TcpListener, ledger: Arc<Mutex<Ledger>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle_http(req, ledger.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle_http(req: Request<Incoming>, ledger: Arc<Mutex<Ledger>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let reply = match serde_json::from_slice::<Value>(&body) {
        // A batch is answered in one array, in order.
        Ok(Value::Array(calls)) => {
            let mut out = Vec::with_capacity(calls.len());
            for call in calls {
                out.push(rpc::handle(&call, &ledger).await);
            }
            Value::Array(out)
        }
        Ok(call) => rpc::handle(&call, &ledger).await,
        Err(e) => json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("Parse error: {e}")}}),
    };
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(reply.to_string())))
        .expect("response"))
}

pub async fn serve_websocket(listener: TcpListener, ledger: Arc<Mutex<Ledger>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let Ok(socket) = tokio_tungstenite::accept_async(stream).await else { return };
            let (sink, mut stream) = socket.split();
            let sink = Arc::new(Mutex::new(sink));
            let mut next_id: u64 = 0;
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(call) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                let id = call.get("id").cloned();
                let Some(id) = id.filter(|v| !v.is_null()) else { continue }; // notifications (ping)
                let reply = match call["method"].as_str() {
                    Some("signatureSubscribe") => {
                        next_id += 1;
                        let sub = next_id;
                        let signature = call["params"][0].as_str().unwrap_or_default().to_string();
                        let (ledger, sink) = (ledger.clone(), sink.clone());
                        tokio::spawn(async move { notify_signature(&signature, sub, &ledger, &sink).await });
                        json!({"jsonrpc": "2.0", "id": id, "result": sub})
                    }
                    Some(m) if m.ends_with("Unsubscribe") => json!({"jsonrpc": "2.0", "id": id, "result": true}),
                    _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}}),
                };
                if sink.lock().await.send(Message::text(reply.to_string())).await.is_err() {
                    break;
                }
            }
        });
    }
}

type WsSink = futures_util::stream::SplitSink<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, Message>;

/// Every transaction is final once `sendTransaction` returns, so this fires at once for anything
/// already sent and otherwise waits for it (up to a minute, as a validator would drop it).
async fn notify_signature(signature: &str, sub: u64, ledger: &Arc<Mutex<Ledger>>, sink: &Arc<Mutex<WsSink>>) {
    // Let the subscription reply go out first.
    tokio::time::sleep(Duration::from_millis(5)).await;
    for _ in 0..600 {
        let status = ledger.lock().await.status_of(signature);
        if let Some((slot, err)) = status {
            let note = json!({"jsonrpc": "2.0", "method": "signatureNotification",
                "params": {"subscription": sub, "result": {"context": {"slot": slot}, "value": {"err": err}}}});
            let _ = sink.lock().await.send(Message::text(note.to_string())).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
