//! The sqlparser dialect each [`Dialect`] parses with.
//!
//! PostgreSQL text is parsed with sqlparser's `PostgreSqlDialect` as it is. MySQL text is
//! parsed with `MySqlDialect` behind a thin wrapper that changes one thing: `$` does not
//! start an identifier. MySQL allows `$` there, so plain `MySqlDialect` would read the
//! normalizer's placeholders (`$L1`, and `$1` for a `?`) as column names; with the
//! wrapper they become placeholders, exactly as in PostgreSQL text, and the key
//! extraction and templates work unchanged. The normalizer backquotes client identifiers
//! that start with `$`, so none is lost. The wrapper reports `MySqlDialect`'s type id,
//! so every MySQL-specific rule of the parser still applies; all other methods delegate.

use sqlparser::ast::{Expr, Statement};
use sqlparser::dialect::{
    BindPlaceholderStyle, Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};

use crate::dialect::Dialect;

/// The sqlparser dialect for `dialect`.
pub(crate) fn parser_dialect(dialect: Dialect) -> &'static dyn SqlDialect {
    match dialect {
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::MySql => &RoutingMySql(MySqlDialect {}),
    }
}

/// `MySqlDialect` without `$` as an identifier start (see the module documentation).
#[derive(Debug)]
struct RoutingMySql(MySqlDialect);

impl SqlDialect for RoutingMySql {
    fn dialect(&self) -> std::any::TypeId {
        self.0.dialect()
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch != '$' && self.0.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }
    fn supports_string_literal_table_alias(&self, explicit: bool) -> bool {
        self.0.supports_string_literal_table_alias(explicit)
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }
    fn ordered_bind_placeholder_style(&self) -> Option<BindPlaceholderStyle> {
        self.0.ordered_bind_placeholder_style()
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.0.supports_string_literal_backslash_escape()
    }
    fn supports_string_literal_concatenation(&self) -> bool {
        self.0.supports_string_literal_concatenation()
    }
    fn ignores_wildcard_escapes(&self) -> bool {
        self.0.ignores_wildcard_escapes()
    }
    fn supports_numeric_prefix(&self) -> bool {
        self.0.supports_numeric_prefix()
    }
    fn supports_literal_prefix_in_qualified_name(&self) -> bool {
        self.0.supports_literal_prefix_in_qualified_name()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        self.0.supports_bitwise_shift_operators()
    }
    fn supports_singular_value_keyword(&self) -> bool {
        self.0.supports_singular_value_keyword()
    }
    fn supports_multiline_comment_hints(&self) -> bool {
        self.0.supports_multiline_comment_hints()
    }
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        self.0.parse_infix(parser, expr, precedence)
    }
    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        self.0.parse_statement(parser)
    }
    fn require_interval_qualifier(&self) -> bool {
        self.0.require_interval_qualifier()
    }
    fn supports_limit_comma(&self) -> bool {
        self.0.supports_limit_comma()
    }
    fn supports_create_table_select(&self) -> bool {
        self.0.supports_create_table_select()
    }
    fn supports_insert_set(&self) -> bool {
        self.0.supports_insert_set()
    }
    fn supports_user_host_grantee(&self) -> bool {
        self.0.supports_user_host_grantee()
    }
    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.0.is_table_factor_alias(explicit, kw, parser)
    }
    fn supports_table_hints(&self) -> bool {
        self.0.supports_table_hints()
    }
    fn requires_single_line_comment_whitespace(&self) -> bool {
        self.0.requires_single_line_comment_whitespace()
    }
    fn supports_hash_comment(&self) -> bool {
        self.0.supports_hash_comment()
    }
    fn supports_match_against(&self) -> bool {
        self.0.supports_match_against()
    }
    fn supports_select_modifiers(&self) -> bool {
        self.0.supports_select_modifiers()
    }
    fn supports_set_names(&self) -> bool {
        self.0.supports_set_names()
    }
    fn supports_comma_separated_set_assignments(&self) -> bool {
        self.0.supports_comma_separated_set_assignments()
    }
    fn supports_alter_column_position(&self) -> bool {
        self.0.supports_alter_column_position()
    }
    fn supports_update_order_by(&self) -> bool {
        self.0.supports_update_order_by()
    }
    fn supports_data_type_signed_suffix(&self) -> bool {
        self.0.supports_data_type_signed_suffix()
    }
    fn supports_data_type_zerofill_suffix(&self) -> bool {
        self.0.supports_data_type_zerofill_suffix()
    }
    fn supports_cross_join_constraint(&self) -> bool {
        self.0.supports_cross_join_constraint()
    }
    fn supports_double_ampersand_operator(&self) -> bool {
        self.0.supports_double_ampersand_operator()
    }
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.0.get_next_precedence(parser)
    }
    fn supports_binary_kw_as_cast(&self) -> bool {
        self.0.supports_binary_kw_as_cast()
    }
    fn supports_table_partitions(&self) -> bool {
        self.0.supports_table_partitions()
    }
    fn supports_comment_optimizer_hint(&self) -> bool {
        self.0.supports_comment_optimizer_hint()
    }
    fn supports_constraint_keyword_without_name(&self) -> bool {
        self.0.supports_constraint_keyword_without_name()
    }
    fn supports_key_column_option(&self) -> bool {
        self.0.supports_key_column_option()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        self.0.supports_group_by_with_modifier()
    }
    fn supports_left_associative_joins_without_parens(&self) -> bool {
        self.0.supports_left_associative_joins_without_parens()
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::parser::Parser;

    use super::*;

    #[test]
    fn placeholders_parse_as_placeholders_and_backquotes_stay() {
        let sql = "SELECT `a b` FROM `t` WHERE id = $L1 AND x = $2 LIMIT $L2, $L3";
        let statements = Parser::parse_sql(parser_dialect(Dialect::MySql), sql).expect("parses");
        assert_eq!(statements[0].to_string(), sql);
        let debug = format!("{:?}", statements[0]);
        assert!(debug.contains("Placeholder(\"$L1\")"), "{debug}");
        assert!(debug.contains("Placeholder(\"$2\")"), "{debug}");
    }
}
