//! The `COPY` splitter reads rows and key fields as a real PostgreSQL's `COPY FROM`
//! does: the same data is loaded into a table hash-partitioned by the key with
//! `MODULUS 4`, and each row's partition must be the shard the splitter sent it to.
//! Data with escapes, quotes, embedded newlines, NULLs, headers and `\r\n` line endings,
//! in text and CSV; the statement's options are read by the router from the statement
//! that loads them. (The server reads the data from a file, through the same parser as
//! `FROM STDIN`.)

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use shardwire_router::{CopySplitter, Dialect, KeyType, Router, Schema, SpreadAction};

const SHARDS: u32 = 4;

/// One case: the key's SQL type and router type, the `COPY` options, the data.
struct Case {
    sql_type: &'static str,
    key_type: KeyType,
    options: &'static str,
    data: &'static [u8],
}

const CASES: &[Case] = &[
    Case {
        sql_type: "bigint",
        key_type: KeyType::Bigint,
        options: "",
        // (`0x1F` and `1_000` only parse from PostgreSQL 16 on, like the router's.)
        data: b"1\t42\tx\n2\t 43 \ty\n3\t+7\tz\n4\t-0\t\\N\n5\t\\N\tnull key\n6\t0099\t.\n\
                7\t\\x31\\062\tescaped digits\n8\t-9223372036854775808\tmin\n",
    },
    Case {
        sql_type: "text",
        key_type: KeyType::Text,
        options: "",
        data:
            b"1\ttab\\there\t-\n2\tback\\\\slash\t-\n3\t\\N\t-\n4\tNULL\t-\n5\t\\x41\\101\t-\n\
                6\t\xc3\xa9t\xc3\xa9\t-\n7\tnew\\\nline\t-\n8\ta\\\tb\t-\n9\t\t-\n10\t\\q\\\\.\t-\n",
    },
    Case {
        sql_type: "text",
        key_type: KeyType::Text,
        options: "WITH (FORMAT csv, HEADER true)",
        data: b"n,k,v\n1,\"a,b\nc\",x\n2,\"say \"\"hi\"\"\",x\n3,,x\n4,\"\",x\n5,pl\"ai\"n,x\n\
                6,  spaced  ,x\n7,\"\\N\",x\n",
    },
    Case {
        sql_type: "text",
        key_type: KeyType::Text,
        options: "WITH (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'NULL')",
        data: b"1;'it\\'s';x\n2;NULL;x\n3;'NULL';x\n4;'a;b\\\\';x\n5;;x\n",
    },
    Case {
        sql_type: "uuid",
        key_type: KeyType::Uuid,
        options: "CSV",
        data: b"1,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,x\r\n\
                2,{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A12},x\r\n\
                3,a0eebc999c0b4ef8bb6d6bb9bd380a13,x\r\n4,,x\r\n",
    },
    Case {
        sql_type: "integer",
        key_type: KeyType::Integer,
        options: "WITH DELIMITER '|' NULL AS '-'",
        data: b"1|-|x\r\n2|2147483647|x\r\n3|-2147483648|x\r\n4|0|x",
    },
];

/// The shard of each row number, as the splitter sends the rows.
fn split(router: &Router, case: &Case, table: &str) -> BTreeMap<u32, u32> {
    let sql = format!("COPY {table} (n, k, v) FROM STDIN {}", case.options);
    let routed = router.route_simple(&sql).unwrap();
    let spread = routed.spread.expect("spread");
    let SpreadAction::Copy(plan) = &spread.plan.action else {
        panic!("{sql}: {:?}", spread.plan.action);
    };
    let mut splitter = CopySplitter::new(plan, NonZeroU32::new(SHARDS).unwrap());
    let mut rows: Vec<(u32, Vec<u8>)> = Vec::new();
    for chunk in case.data.chunks(5) {
        splitter
            .feed(chunk, &mut |shard, row| rows.push((shard, row.to_vec())))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    splitter
        .finish(&mut |shard, row| rows.push((shard, row.to_vec())))
        .unwrap();
    let delimiter = plan.format.delimiter;
    let header = usize::from(plan.format.header) * SHARDS as usize;
    rows.iter()
        .skip(header)
        .map(|(shard, row)| {
            let n = row.split(|&b| b == delimiter).next().unwrap();
            (std::str::from_utf8(n).unwrap().parse().unwrap(), *shard)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_land_where_postgres_copy_puts_them() {
    let topo = shardwire_testbed::Topology::builder()
        .pg_shards(1)
        .pg_replicas(0)
        .start()
        .await
        .expect("testbed");
    let client = topo.pg(0).primary().pg_client().await.expect("connect");
    let mut schema = Schema::new(NonZeroU32::new(SHARDS).unwrap());
    for (i, case) in CASES.iter().enumerate() {
        schema = schema.with_sharded(&format!("sw_copy_{i}"), "k", case.key_type);
    }
    let router = Router::new(schema, Dialect::Postgres);
    let dir = std::env::temp_dir();
    for (i, case) in CASES.iter().enumerate() {
        let table = format!("sw_copy_{i}");
        let mut ddl = format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (n int, k {}, v text) \
             PARTITION BY HASH (k);",
            case.sql_type
        );
        for r in 0..SHARDS {
            ddl.push_str(&format!(
                "CREATE TABLE {table}_p{r} PARTITION OF {table} \
                 FOR VALUES WITH (MODULUS {SHARDS}, REMAINDER {r});"
            ));
        }
        client.batch_execute(&ddl).await.unwrap();
        let file = dir.join(format!(
            "shardwire-copy-split-{}-{i}.dat",
            std::process::id()
        ));
        std::fs::write(&file, case.data).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let load = format!(
            "COPY {table} (n, k, v) FROM '{}' {}",
            file.display(),
            case.options
        );
        let loaded = client.batch_execute(&load).await;
        std::fs::remove_file(&file).ok();
        loaded.unwrap_or_else(|e| panic!("{load}: {:?}", e.as_db_error()));
        let placed: BTreeMap<u32, u32> = client
            .query(
                &format!("SELECT n, tableoid::regclass::text FROM {table}"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let n: i32 = row.get(0);
                let partition: String = row.get(1);
                let remainder = partition.rsplit("_p").next().unwrap().parse().unwrap();
                (u32::try_from(n).unwrap(), remainder)
            })
            .collect();
        assert_eq!(
            split(&router, case, &table),
            placed,
            "{table}: {}",
            case.options
        );
    }
}
