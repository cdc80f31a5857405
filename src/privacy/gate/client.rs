//! The OpenAI-compatible client (`async-openai`): the only code in the crate that talks to an
//! external AI provider. Private to the gate: nothing outside `privacy::gate` can name it.
#![allow(clippy::disallowed_types)]

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};
use async_openai::types::embeddings::{CreateEmbeddingRequest, CreateEmbeddingResponse};
use serde_json::{Value, json};

use super::ProviderErrorKind;
use crate::config::OpenAiConfig;

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

pub(super) struct OpenAi {
    client: Client<OpenAIConfig>,
    timeout: Duration,
}

impl OpenAi {
    /// A client when a base URL or an API key is configured; `None` otherwise.
    pub(super) fn from_config(config: &OpenAiConfig) -> Option<OpenAi> {
        if config.base_url.is_none() && config.api_key.is_none() {
            return None;
        }
        let mut openai = OpenAIConfig::new();
        if let Some(base) = &config.base_url {
            openai = openai.with_api_base(base.trim_end_matches('/'));
        }
        if let Some(key) = &config.api_key {
            openai = openai.with_api_key(key.expose());
        }
        Some(OpenAi {
            client: Client::with_config(openai),
            timeout: config.timeout,
        })
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
