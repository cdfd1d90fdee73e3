//! Compiles java-tron's protocol definitions (the TRON test node's copy, `tron-devnode/proto`, from
//! tronprotocol/protocol) into a gRPC client with protox: the deployment builds, signs and broadcasts the TRON
//! transactions whose bytes it must keep or hand to other signers (a multi-signature account's permissions, the
//! admin's calls), and reads accounts' permissions and the genesis block. No system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=../tron-devnode/proto");
    let fds = protox::compile(["../tron-devnode/proto/tron/api/api.proto"], ["../tron-devnode/proto/tron"])?;
    tonic_prost_build::configure().build_client(true).build_server(false).compile_fds(fds)?;
    Ok(())
}
