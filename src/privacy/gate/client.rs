//! The OpenAI-compatible client (`async-openai`): the only code in the crate that talks to an
//! external AI provider. Private to the gate: nothing outside `privacy::gate` can name it.
//!
//! The transport retries once: a 429 or 5xx answer (after its `Retry-After` when that is at most
//! [`SHORT_WAIT`], else after a short pause) and a refused connection. A longer `Retry-After`
//! is not waited for: it goes into the provider's [`Cooldown`], so the gate sends nothing to that
//! provider until then (the next provider of the tenant's chain answers instead).
#![allow(clippy::disallowed_types)]

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};
use async_openai::types::embeddings::{CreateEmbeddingRequest, CreateEmbeddingResponse};
use serde_json::{Value, json};

use super::ProviderErrorKind;
use crate::config::Secret;

/// The longest `Retry-After` waited for inside a call; a longer one cools the provider down.
const SHORT_WAIT: Duration = Duration::from_secs(2);
/// The pause before the one retry when the provider named none.
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// The longest `Retry-After` honoured: a provider that asks for more is asked again after this.
const MAX_COOLDOWN: Duration = Duration::from_secs(600);

/// A provider failure, already classified; `message` never holds request content.
#[derive(Debug)]
pub(super) struct CallError {
    pub kind: ProviderErrorKind,
    pub message: String,
}

pub(super) struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Until when (milliseconds since the epoch) a provider asked not to be called.
#[derive(Debug, Default)]
pub(super) struct Cooldown(AtomicU64);

impl Cooldown {
    pub(super) fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// How long the provider still asked to wait, when it did.
    pub(super) fn remaining(&self) -> Option<Duration> {
        let until = self.0.load(Ordering::Relaxed);
        let now = Self::now_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    fn wait(&self, wait: Duration) {
        let until = Self::now_ms() + wait.min(MAX_COOLDOWN).as_millis() as u64;
        self.0.fetch_max(until, Ordering::Relaxed);
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The HTTP transport: one retry for a 429, a 5xx or a refused connection; a `Retry-After`
/// longer than [`SHORT_WAIT`] starts the provider's cooldown instead of a wait.
#[derive(Clone)]
struct Transport {
    http: reqwest::Client,
    cooldown: Arc<Cooldown>,
}

type HttpFuture =
    Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static>>;

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = HttpFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        let cooldown = self.cooldown.clone();
        Box::pin(async move {
            let mut retried = false;
            loop {
                let request = factory.build().await?;
                let response = match http.execute(request).await {
                    Err(err) if err.is_connect() && !retried => {
                        retried = true;
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    Err(err) => return Err(OpenAIError::Reqwest(err)),
                    Ok(response) => response,
                };
                let status = response.status().as_u16();
                if status != 429 && status < 500 {
                    return Ok(response);
                }
                let wait = retry_after(response.headers());
                match wait {
                    Some(wait) if wait > SHORT_WAIT => {
                        cooldown.wait(wait);
                        return Ok(response);
                    }
                    _ if retried => return Ok(response),
                    wait => {
                        retried = true;
                        tokio::time::sleep(wait.unwrap_or(RETRY_PAUSE)).await;
                    }
                }
            }
        })
    }
}

pub(super) struct OpenAi {
    client: Client<OpenAIConfig>,
    timeout: Duration,
    pub(super) cooldown: Arc<Cooldown>,
}

impl OpenAi {
    /// A client for a provider at `base_url` (the OpenAI API when `None`) with an API key.
    pub(super) fn new(
        base_url: Option<&str>,
        api_key: Option<&Secret>,
        timeout: Duration,
    ) -> OpenAi {
        let mut openai = OpenAIConfig::new();
        if let Some(base) = base_url {
            openai = openai.with_api_base(base.trim_end_matches('/'));
        }
        if let Some(key) = api_key {
            openai = openai.with_api_key(key.expose());
        }
        let cooldown = Arc::new(Cooldown::default());
        let transport = Transport {
            http: reqwest::Client::new(),
            cooldown: cooldown.clone(),
        };
        OpenAi {
            client: Client::with_config(openai).with_http_service(transport),
            timeout,
            cooldown,
        }
    }

    pub(super) async fn embed(
        &self,
        model: &str,
        dimensions: Option<u32>,
        texts: &[String],
    ) -> Result<(Vec<Vec<f32>>, Usage), CallError> {
        let mut body = json!({"model": model, "input": texts, "encoding_format": "float"});
        if let Some(d) = dimensions {
            body["dimensions"] = json!(d);
        }
        let request: CreateEmbeddingRequest =
            serde_json::from_value(body).map_err(|e| CallError {
                kind: ProviderErrorKind::Client,
                message: format!("cannot build embeddings request: {e}"),
            })?;
        let response: CreateEmbeddingResponse =
            self.timed(self.client.embeddings().create(request)).await?;
        let mut data = response.data;
        data.sort_by_key(|e| e.index);
        if data.len() != texts.len() {
            return Err(CallError {
                kind: ProviderErrorKind::BadResponse,
                message: format!(
                    "provider returned {} embeddings for {} inputs",
                    data.len(),
                    texts.len()
                ),
            });
        }
        let usage = Usage {
            prompt_tokens: u64::from(response.usage.prompt_tokens),
            completion_tokens: 0,
        };
        Ok((data.into_iter().map(|e| e.embedding).collect(), usage))
    }

    /// One chat completion; returns the first choice's content.
    pub(super) async fn chat(&self, body: Value) -> Result<(String, Option<Usage>), CallError> {
        let request: CreateChatCompletionRequest =
            serde_json::from_value(body).map_err(|e| CallError {
                kind: ProviderErrorKind::Client,
                message: format!("cannot build chat request: {e}"),
            })?;
        let response: CreateChatCompletionResponse =
            self.timed(self.client.chat().create(request)).await?;
        let usage = response.usage.as_ref().map(|u| Usage {
            prompt_tokens: u64::from(u.prompt_tokens),
            completion_tokens: u64::from(u.completion_tokens),
        });
        let content = response
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| CallError {
                kind: ProviderErrorKind::BadResponse,
                message: "provider returned no message content".into(),
            })?;
        Ok((content, usage))
    }

    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, OpenAIError>>,
    ) -> Result<T, CallError> {
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(CallError {
                kind: ProviderErrorKind::Timeout,
                message: format!("no answer within {:?}", self.timeout),
            }),
            Ok(Err(err)) => Err(classify(err)),
            Ok(Ok(value)) => Ok(value),
        }
    }
}

/// Maps a client error to a kind. Messages from the provider are not kept: a provider may echo
/// request content in its error text.
fn classify(err: OpenAIError) -> CallError {
    let (kind, message) = match &err {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let kind = match status {
                429 => ProviderErrorKind::RateLimited,
                500..=599 => ProviderErrorKind::Server,
                401 | 403 => ProviderErrorKind::Auth,
                _ => ProviderErrorKind::Client,
            };
            (kind, format!("provider answered HTTP {status}"))
        }
        OpenAIError::Reqwest(e) if e.is_timeout() => {
            (ProviderErrorKind::Timeout, "request timed out".to_owned())
        }
        OpenAIError::Reqwest(e) => (
            ProviderErrorKind::Unreachable,
            format!(
                "cannot reach provider ({})",
                if e.is_connect() {
                    "connect"
                } else {
                    "transport"
                }
            ),
        ),
        OpenAIError::JSONDeserialize(..) => (
            ProviderErrorKind::BadResponse,
            "provider answer is not the expected JSON".to_owned(),
        ),
        OpenAIError::InvalidArgument(_) => (
            ProviderErrorKind::Client,
            "invalid request arguments".to_owned(),
        ),
        _ => (
            ProviderErrorKind::BadResponse,
            "provider call failed".to_owned(),
        ),
    };
    CallError { kind, message }
}
