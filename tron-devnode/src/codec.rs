//! The gRPC codec of the generated services and clients (`build.rs` names it): prost's, except that a message
//! larger than [`INLINE_PROTOBUF_BYTES`] is decoded with the async worker handed over to another thread
//! (`block_in_place`). Decoding is not linear in a message's bytes alone: a 1 MB `Transaction` of empty repeated
//! entries is half a million allocations, tens of milliseconds in a debug build; tonic decodes inside the
//! request's future, where that would stall every connection served by the same worker. On a current-thread
//! runtime (tests' default) there is no other worker to hand over to, and the message is decoded inline.

use std::marker::PhantomData;

use prost::{Message, bytes::Buf};
use tokio::runtime::{Handle, RuntimeFlavor};
use tonic::{
    Status,
    codec::{DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;

/// Messages up to this many bytes are decoded inline: at worst (every two bytes an empty repeated entry) about
/// half a millisecond in a debug build.
pub(crate) const INLINE_PROTOBUF_BYTES: usize = 4 * 1024;

/// A [`tonic::codec::Codec`] encoding `T` and decoding `U` with prost.
#[derive(Debug)]
pub(crate) struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder(PhantomData)
    }
}

/// Decodes `U`, a large message with the worker handed over.
#[derive(Debug)]
pub(crate) struct ProstDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for ProstDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let large = buf.remaining() > INLINE_PROTOBUF_BYTES;
        let decode = || U::decode(buf).map(Some).map_err(|e| Status::internal(e.to_string()));
        if large && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread) {
            tokio::task::block_in_place(decode)
        } else {
            decode()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::SeqCst},
    };

    use axum::body::Bytes;
    use http_body_util::Full;

    use super::*;
    use crate::proto::{Transaction, transaction};

    /// Decodes `message` as the gRPC server does (tonic's `Streaming` over this codec), in a task, while another
    /// task spins on the runtime; returns the entries decoded and how often the spinner ran during the decoding.
    async fn spins_while_decoding(message: &[u8]) -> (usize, u64) {
        let mut frame = vec![0];
        frame.extend(u32::try_from(message.len()).expect("a frame").to_be_bytes());
        frame.extend(message);
        let (spins, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let spinner = tokio::spawn({
            let (spins, done) = (spins.clone(), done.clone());
            async move {
                while !done.load(SeqCst) {
                    spins.fetch_add(1, SeqCst);
                    tokio::task::yield_now().await;
                }
            }
        });
        while spins.load(SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let decoding = tokio::spawn(async move {
            let decoder = ProstDecoder::<Transaction>(PhantomData);
            let body = Full::new(Bytes::from(frame));
            let mut stream = tonic::codec::Streaming::new_request(decoder, body, None, Some(usize::MAX));
            let before = spins.load(SeqCst);
            let decoded = stream.message().await.expect("decoded").expect("a message");
            let during = spins.load(SeqCst) - before;
            done.store(true, SeqCst);
            (decoded.ret.len(), during)
        });
        let outcome = decoding.await.expect("the decoding ran");
        spinner.await.expect("the spinner ran");
        outcome
    }

    /// 2 MB of empty results: a million entries, far more than a millisecond to decode.
    fn large() -> Vec<u8> {
        Transaction { ret: vec![transaction::Result::default(); 1_000_000], ..Default::default() }.encode_to_vec()
    }

    #[test]
    fn a_large_message_is_decoded_while_the_only_worker_goes_on_serving_other_tasks() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
        let (decoded, spins) = runtime.block_on(spins_while_decoding(&large()));
        assert_eq!(decoded, 1_000_000);
        assert!(spins > 0, "the worker served nothing else while the message was decoded");
    }

    #[test]
    fn on_a_current_thread_runtime_it_is_decoded_inline_which_the_spinner_shows() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let (decoded, spins) = runtime.block_on(spins_while_decoding(&large()));
        assert_eq!(decoded, 1_000_000);
        assert_eq!(spins, 0, "nothing else runs on the one thread while it decodes");
    }
}
