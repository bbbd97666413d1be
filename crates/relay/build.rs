include!("../../build-support/test_tools.rs");

fn main() {
    emit_test_tool_cfgs();
}
