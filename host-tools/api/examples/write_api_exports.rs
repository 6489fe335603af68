//! Regenerates the committed API export files until the `oxicard api exports` command
//! exists: `cargo run -p oxicard-api --example write_api_exports -- SPEC_DIR OUT_DIR [TARGET]`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [spec, out, rest @ ..] = args.as_slice() else {
        return Err("usage: write_api_exports SPEC_DIR OUT_DIR [TARGET]".into());
    };
    let target = rest.first().map_or("3.0.5", String::as_str);
    for path in oxicard_api::write_api_exports(Path::new(spec), target, Path::new(out))? {
        println!("{}", path.display());
    }
    Ok(())
}
