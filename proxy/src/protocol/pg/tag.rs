//! Message type bytes of the PostgreSQL v3 protocol.

/// Messages a client (frontend) sends.
pub mod frontend {
    /// Simple query.
    pub const QUERY: u8 = b'Q';
    /// Extended protocol: Parse.
    pub const PARSE: u8 = b'P';
    /// Extended protocol: Bind.
    pub const BIND: u8 = b'B';
    /// Extended protocol: Describe.
    pub const DESCRIBE: u8 = b'D';
    /// Extended protocol: Execute.
    pub const EXECUTE: u8 = b'E';
    /// Extended protocol: Close.
    pub const CLOSE: u8 = b'C';
    /// Extended protocol: Sync.
    pub const SYNC: u8 = b'S';
    /// Extended protocol: Flush.
    pub const FLUSH: u8 = b'H';
    /// Terminate.
    pub const TERMINATE: u8 = b'X';
    /// COPY data.
    pub const COPY_DATA: u8 = b'd';
    /// COPY done.
    pub const COPY_DONE: u8 = b'c';
    /// COPY failed.
    pub const COPY_FAIL: u8 = b'f';
    /// Password / SASL responses during authentication.
    pub const PASSWORD: u8 = b'p';
    /// Function call (legacy).
    pub const FUNCTION_CALL: u8 = b'F';
}

/// Messages a server (backend) sends.
pub mod backend {
    /// Authentication request or result.
    pub const AUTHENTICATION: u8 = b'R';
    /// Cancellation key.
    pub const BACKEND_KEY_DATA: u8 = b'K';
    /// Run-time parameter report.
    pub const PARAMETER_STATUS: u8 = b'S';
    /// Ready for a new query; carries the transaction status.
    pub const READY_FOR_QUERY: u8 = b'Z';
    /// Error.
    pub const ERROR_RESPONSE: u8 = b'E';
    /// Notice.
    pub const NOTICE_RESPONSE: u8 = b'N';
    /// Asynchronous notification.
    pub const NOTIFICATION: u8 = b'A';
    /// Statement finished.
    pub const COMMAND_COMPLETE: u8 = b'C';
    /// Empty query string.
    pub const EMPTY_QUERY: u8 = b'I';
    /// Row description.
    pub const ROW_DESCRIPTION: u8 = b'T';
    /// The server is ready for COPY data from the client.
    pub const COPY_IN_RESPONSE: u8 = b'G';
    /// Data row.
    pub const DATA_ROW: u8 = b'D';
    /// No row description (statement returns no rows).
    pub const NO_DATA: u8 = b'n';
    /// Parameter description.
    pub const PARAMETER_DESCRIPTION: u8 = b't';
    /// Parse finished.
    pub const PARSE_COMPLETE: u8 = b'1';
    /// Bind finished.
    pub const BIND_COMPLETE: u8 = b'2';
    /// Close finished.
    pub const CLOSE_COMPLETE: u8 = b'3';
    /// Execute stopped at its row limit.
    pub const PORTAL_SUSPENDED: u8 = b's';
    /// COPY FROM STDIN starts: the client must send data.
    pub const COPY_IN: u8 = b'G';
    /// COPY TO STDOUT starts.
    pub const COPY_OUT: u8 = b'H';
    /// COPY BOTH (replication) starts.
    pub const COPY_BOTH: u8 = b'W';
    /// COPY data.
    pub const COPY_DATA: u8 = b'd';
    /// COPY done.
    pub const COPY_DONE: u8 = b'c';
    /// Negotiate protocol version.
    pub const NEGOTIATE_PROTOCOL: u8 = b'v';
}

/// Request codes carried by untagged startup-phase packets.
pub mod startup {
    /// Protocol 3.0.
    pub const PROTOCOL_3_0: i32 = 196_608;
    /// SSLRequest.
    pub const SSL_REQUEST: i32 = 80_877_103;
    /// GSSENCRequest.
    pub const GSSENC_REQUEST: i32 = 80_877_104;
    /// CancelRequest.
    pub const CANCEL_REQUEST: i32 = 80_877_102;
    /// The one-byte answer to SSLRequest: go ahead with the TLS handshake.
    pub const SSL_ACCEPTED: u8 = b'S';
    /// The one-byte answer to SSLRequest or GSSENCRequest: continue unencrypted.
    pub const SSL_REFUSED: u8 = b'N';
}

/// Authentication request subtypes (the int32 after tag `R`).
pub mod auth {
    /// Authentication succeeded.
    pub const OK: i32 = 0;
    /// Cleartext password requested.
    pub const CLEARTEXT: i32 = 3;
    /// MD5 password requested (4-byte salt follows).
    pub const MD5: i32 = 5;
    /// SASL: mechanism list follows.
    pub const SASL: i32 = 10;
    /// SASL: server challenge follows.
    pub const SASL_CONTINUE: i32 = 11;
    /// SASL: server final message follows.
    pub const SASL_FINAL: i32 = 12;
}

/// Transaction status byte of ReadyForQuery.
pub mod txn_status {
    /// Not in a transaction block.
    pub const IDLE: u8 = b'I';
    /// In a transaction block.
    pub const IN_TRANSACTION: u8 = b'T';
    /// In a failed transaction block.
    pub const FAILED: u8 = b'E';
}
