// Rejected: `cache` options that cannot be used, each reported on the offending token: a TTL
// with an unknown unit, a zero TTL, a TTL that is not a string, a misspelled setting, and a
// value given to the bare flag.
#[dataflow::model(cache(ttl = "30 seconds"))]
pub struct A {
    pub id: i64,
}

#[dataflow::model(cache(ttl = "0s"))]
pub struct B {
    pub id: i64,
}

#[dataflow::model(cache(ttl = 30))]
pub struct C {
    pub id: i64,
}

#[dataflow::model]
#[dataflow(cache(tll = "30s"))]
pub struct D {
    pub id: i64,
}

#[dataflow::model(cache = true)]
pub struct E {
    pub id: i64,
}

fn main() {}
