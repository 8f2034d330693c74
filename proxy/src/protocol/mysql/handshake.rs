//! The connection phase, both directions: the server's Initial Handshake v10 (built by
//! the frontend, read by the backend client), the client's HandshakeResponse41 (read by
//! the frontend, built by the backend client), the short SSLRequest, and the
//! AuthSwitchRequest / AuthMoreData a server sends during authentication.

use bytes::{BufMut, BytesMut};

use super::consts::{cap, header};
use super::lenenc::{self, Cursor, Malformed};
use super::packet::framed;

/// Protocol version byte of the Initial Handshake.
pub const PROTOCOL_VERSION: u8 = 10;
/// Length of the auth plugin data (salt) the proxy sends: 20 bytes.
pub const SALT_LEN: usize = 20;
/// Length of an SSLRequest payload.
pub const SSL_REQUEST_LEN: usize = 32;

/// The server greeting (Initial Handshake v10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greeting<'a> {
    /// Server version string, e.g. `5.7.99-shardwire` or `10.11.6-MariaDB`.
    pub server_version: &'a [u8],
    /// Connection (thread) id.
    pub connection_id: u32,
    /// The 20-byte challenge (the two parts joined, without the trailing NUL).
    pub salt: [u8; SALT_LEN],
    /// Server capabilities (lower and upper halves joined).
    pub capabilities: u32,
    /// Default collation id.
    pub charset: u8,
    /// Server status flags.
    pub status: u16,
    /// MariaDB extended capabilities (only when [`cap::MYSQL`] is cleared; else 0).
    pub mariadb_capabilities: u32,
    /// Default auth plugin name (empty without `PLUGIN_AUTH`).
    pub auth_plugin: &'a [u8],
}

impl<'a> Greeting<'a> {
    /// Reads a greeting. A payload starting with 0xFF is an ERR packet (too many
    /// connections, host blocked): check for it first and read it as one.
    pub fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "initial handshake");
        if c.u8()? != PROTOCOL_VERSION {
            return Err(c.err());
        }
        let server_version = c.cstr()?;
        let connection_id = c.u32()?;
        let salt1 = c.bytes(8)?;
        c.u8()?;
        let cap_low = c.u16()?;
        let charset = c.u8()?;
        let status = c.u16()?;
        let cap_high = c.u16()?;
        let capabilities = u32::from(cap_low) | u32::from(cap_high) << 16;
        let auth_data_len = c.u8()?;
        c.bytes(6)?;
        let ext = c.u32()?;
        let mariadb_capabilities = if capabilities & cap::MYSQL == 0 {
            ext
        } else {
            0
        };
        let mut salt = [0u8; SALT_LEN];
        salt[..8].copy_from_slice(salt1);
        if capabilities & cap::SECURE_CONNECTION != 0 {
            // max(13, len - 8) bytes, the last a NUL; at least 12 must be there.
            let len = usize::from(auth_data_len).saturating_sub(8).max(13);
            let part2 = c.bytes(len.min(c.rest().len().max(SALT_LEN - 8)))?;
            let part2 = part2.strip_suffix(&[0]).unwrap_or(part2);
            let n = part2.len().min(SALT_LEN - 8);
            salt[8..8 + n].copy_from_slice(&part2[..n]);
        }
        let auth_plugin = if capabilities & cap::PLUGIN_AUTH != 0 {
            c.cstr_or_rest()
        } else {
            &[]
        };
        Ok(Greeting {
            server_version,
            connection_id,
            salt,
            capabilities,
            charset,
            status,
            mariadb_capabilities,
            auth_plugin,
        })
    }

    /// Appends the greeting as a packet (sequence id 0 when it opens the connection).
    /// The 10 reserved bytes are zero (so no MariaDB extended capabilities).
    pub fn write(&self, out: &mut BytesMut, seq: &mut u8) {
        framed(out, seq, |b| {
            b.put_u8(PROTOCOL_VERSION);
            b.put_slice(self.server_version);
            b.put_u8(0);
            b.put_u32_le(self.connection_id);
            b.put_slice(&self.salt[..8]);
            b.put_u8(0);
            b.put_u16_le(self.capabilities as u16);
            b.put_u8(self.charset);
            b.put_u16_le(self.status);
            b.put_u16_le((self.capabilities >> 16) as u16);
            let plugin_auth = self.capabilities & cap::PLUGIN_AUTH != 0;
            b.put_u8(if plugin_auth { SALT_LEN as u8 + 1 } else { 0 });
            b.put_slice(&[0; 10]);
            if self.capabilities & cap::SECURE_CONNECTION != 0 {
                b.put_slice(&self.salt[8..]);
                b.put_u8(0);
            }
            if plugin_auth {
                b.put_slice(self.auth_plugin);
                b.put_u8(0);
            }
        });
    }
}

/// Whether a client's first payload is an SSLRequest (32 bytes with the `SSL` flag):
/// the client switches to TLS and sends the full HandshakeResponse41 afterwards.
pub fn is_ssl_request(payload: &[u8]) -> bool {
    match payload {
        [a, b, ..] if payload.len() == SSL_REQUEST_LEN => {
            u32::from(u16::from_le_bytes([*a, *b])) & cap::SSL != 0
        }
        _ => false,
    }
}

/// The client's HandshakeResponse41.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeResponse<'a> {
    /// Client capabilities.
    pub capabilities: u32,
    /// Largest packet the client accepts.
    pub max_packet_size: u32,
    /// Client collation id.
    pub charset: u8,
    /// User name.
    pub user: &'a str,
    /// Auth response (scramble) for the plugin.
    pub auth_response: &'a [u8],
    /// Database, with `CONNECT_WITH_DB`.
    pub database: Option<&'a str>,
    /// Auth plugin the client used, with `PLUGIN_AUTH`.
    pub auth_plugin: Option<&'a str>,
    /// Connection attributes as sent (length-encoded key/value pairs, validated), with
    /// `CONNECT_ATTRS`; see [`ConnectAttrs`].
    pub connect_attrs: Option<&'a [u8]>,
}

impl<'a> HandshakeResponse<'a> {
    /// Reads a HandshakeResponse41. Pre-4.1 clients are refused (Malformed).
    pub fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "handshake response");
        let capabilities = c.u32()?;
        if capabilities & cap::PROTOCOL_41 == 0 {
            return Err(c.err());
        }
        let max_packet_size = c.u32()?;
        let charset = c.u8()?;
        c.bytes(23)?;
        let user = c.cstr_utf8()?;
        let auth_response = if capabilities & cap::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            c.lenenc_str()?
        } else if capabilities & cap::SECURE_CONNECTION != 0 {
            let n = c.u8()?;
            c.bytes(usize::from(n))?
        } else {
            c.cstr()?
        };
        let utf8 =
            |s: &'a [u8]| std::str::from_utf8(s).map_err(|_| Malformed("handshake response"));
        // Database and plugin may be missing at the very end; both are tolerated.
        let database = if capabilities & cap::CONNECT_WITH_DB != 0 && !c.is_empty() {
            Some(c.cstr_utf8()?)
        } else {
            None
        };
        let auth_plugin = if capabilities & cap::PLUGIN_AUTH != 0 && !c.is_empty() {
            Some(utf8(c.cstr_or_rest())?)
        } else {
            None
        };
        let connect_attrs = if capabilities & cap::CONNECT_ATTRS != 0 && !c.is_empty() {
            let attrs = c.lenenc_str()?;
            ConnectAttrs(attrs).try_for_each(|kv| kv.map(drop))?;
            Some(attrs)
        } else {
            None
        };
        Ok(HandshakeResponse {
            capabilities,
            max_packet_size,
            charset,
            user,
            auth_response,
            database,
            auth_plugin,
            connect_attrs,
        })
    }

    /// Appends the response as a packet (sequence id 1 after the greeting, 2 after TLS).
    /// The auth response is written as the capabilities say; database, plugin and
    /// attributes when their flag is set (empty when `None`).
    pub fn write(&self, out: &mut BytesMut, seq: &mut u8) {
        framed(out, seq, |b| {
            self.write_fixed(b);
            b.put_slice(self.user.as_bytes());
            b.put_u8(0);
            let caps = self.capabilities;
            if caps & cap::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
                lenenc::write_str(b, self.auth_response);
            } else if caps & cap::SECURE_CONNECTION != 0 {
                let n = self.auth_response.len().min(255);
                b.put_u8(n as u8);
                b.put_slice(&self.auth_response[..n]);
            } else {
                b.put_slice(self.auth_response);
                b.put_u8(0);
            }
            if caps & cap::CONNECT_WITH_DB != 0 {
                b.put_slice(self.database.unwrap_or_default().as_bytes());
                b.put_u8(0);
            }
            if caps & cap::PLUGIN_AUTH != 0 {
                b.put_slice(self.auth_plugin.unwrap_or_default().as_bytes());
                b.put_u8(0);
            }
            if caps & cap::CONNECT_ATTRS != 0 {
                lenenc::write_str(b, self.connect_attrs.unwrap_or_default());
            }
        });
    }

    /// Appends the SSLRequest with these capabilities (which must include `SSL`).
    pub fn write_ssl_request(&self, out: &mut BytesMut, seq: &mut u8) {
        framed(out, seq, |b| self.write_fixed(b));
    }

    fn write_fixed(&self, b: &mut BytesMut) {
        b.put_u32_le(self.capabilities);
        b.put_u32_le(self.max_packet_size);
        b.put_u8(self.charset);
        b.put_slice(&[0; 23]);
    }
}

/// Iterator over connection attributes: (key, value) pairs of length-encoded strings.
#[derive(Clone, Debug)]
pub struct ConnectAttrs<'a>(pub &'a [u8]);

impl<'a> Iterator for ConnectAttrs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let mut c = Cursor::new(self.0, "connection attributes");
        let kv = c.lenenc_str().and_then(|k| Ok((k, c.lenenc_str()?)));
        self.0 = if kv.is_ok() { c.rest() } else { &[] };
        Some(kv)
    }
}

/// Encodes connection attributes for [`HandshakeResponse::connect_attrs`].
pub fn encode_attrs(attrs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in attrs {
        lenenc::write_str(&mut out, k.as_bytes());
        lenenc::write_str(&mut out, v.as_bytes());
    }
    out
}

/// An AuthSwitchRequest from a server: the plugin to use and its data (the salt, the
/// trailing NUL removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSwitch<'a> {
    /// Plugin name.
    pub plugin: &'a [u8],
    /// Plugin data.
    pub data: &'a [u8],
}

impl<'a> AuthSwitch<'a> {
    /// Reads an AuthSwitchRequest (0xFE header).
    pub fn parse(payload: &'a [u8]) -> Result<Self, Malformed> {
        let mut c = Cursor::new(payload, "auth switch request");
        if c.u8()? != header::EOF {
            return Err(c.err());
        }
        let plugin = c.cstr_or_rest();
        let data = c.rest();
        Ok(AuthSwitch {
            plugin,
            data: data.strip_suffix(&[0]).unwrap_or(data),
        })
    }
}

/// The data of an AuthMoreData packet (0x01 header).
pub fn auth_more_data(payload: &[u8]) -> Result<&[u8], Malformed> {
    match payload.split_first() {
        Some((&header::AUTH_MORE_DATA, data)) => Ok(data),
        _ => Err(Malformed("auth more data")),
    }
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
