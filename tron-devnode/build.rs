//! Compiles java-tron's protocol definitions (`proto/`, from tronprotocol/protocol) into the gRPC server, with
//! protox: no system `protoc` is needed. The services use the node's codec (`src/codec.rs`), which decodes large
//! messages off the async workers.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["proto/tron/api/api.proto"], ["proto/tron"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .codec_path("crate::codec::Codec")
        .compile_fds(fds)?;
    Ok(())
}
