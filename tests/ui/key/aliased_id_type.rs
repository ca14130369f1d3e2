// Rejected: a key whose type the macro cannot see through (an alias to `bool`). The compiler
// checks it against `IdValue` on the field's type and names the allowed key types.
type Flag = bool;

#[dataflow::model]
pub struct Switch {
    pub id: Flag,
}

fn main() {}
