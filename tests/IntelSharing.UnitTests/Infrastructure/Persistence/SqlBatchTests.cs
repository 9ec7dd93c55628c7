using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

public sealed class SqlBatchTests
{
    [Fact]
    public void Two_statements_may_share_a_parameter_name_only_for_the_same_value()
    {
        var batch = new SqlBatch();
        var alertId = Guid.CreateVersion7();
        batch.Add("INSERT INTO alerts (id) VALUES (@Id)", new { Id = alertId });
        batch.Add("INSERT INTO alert_versions (alert_id) VALUES (@Id)", new { Id = alertId });

        var clash = Assert.Throws<InvalidOperationException>(() => batch.Add("INSERT INTO audit_records (id) VALUES (@id)", new { id = Guid.CreateVersion7() }));

        Assert.Contains("@id", clash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_parts_get_names_of_their_own()
    {
        var batch = new SqlBatch();

        Assert.NotEqual(batch.NextName("e"), batch.NextName("e"));
    }

    [Fact]
    public void Appended_batches_built_alike_keep_their_own_values_under_names_of_their_own()
    {
        var (first, second) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var group = new SqlBatch();
        foreach (var id in new[] { first, second })
        {
            var alert = new SqlBatch();
            alert.Add("INSERT INTO alerts (id, title) VALUES (@Id, '@not_a_parameter')", new { Id = id });
            alert.Add("INSERT INTO alert_versions (alert_id) VALUES (@Id)");
            group.Append(alert);
        }

        var (sql, values) = group.Contents;
        var statements = sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, statements.Length);
        var names = statements.Select(s => System.Text.RegularExpressions.Regex.Match(s, "@(\\w+)[,)]").Groups[1].Value).ToList();
        Assert.Equal(first, values[names[0]]);
        Assert.Equal(second, values[names[2]]);
        Assert.Equal(names[0], names[1]);
        Assert.Equal(names[2], names[3]);
        Assert.NotEqual(names[0], names[2]);
        Assert.Contains("'@not_a_parameter'", statements[0], StringComparison.Ordinal);
        Assert.Contains("'@not_a_parameter'", statements[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Run_statement_by_statement_each_statement_is_bound_only_the_parameters_it_names()
    {
        var group = new SqlBatch();
        group.AddRows(2, "INSERT INTO alerts (id, title)", i => $"({group.Parameter($"id{i}", Guid.CreateVersion7())}, {group.Parameter($"title{i}", $"t{i}")})");
        foreach (var text in new[] { "a", "b" })
        {
            var part = new SqlBatch();
            part.Add("INSERT INTO audit_records (detail, note) VALUES (@detail, '@not_a_parameter')", new { detail = text });
            part.Add("UPDATE counters SET n = n + 1 WHERE name = @detail");
            group.Append(part);
        }

        var statements = group.Statements;

        Assert.Equal(5, statements.Count);
        Assert.Equal(["id0", "title0", "id1", "title1"], statements[0].Names);
        Assert.Single(statements[1].Names); // the second part's parameter is not bound to the first part's statements
        Assert.NotEqual(statements[1].Names[0], statements[3].Names[0]);
        Assert.Equal(statements[1].Names, statements[2].Names);
        Assert.Equal("a", group.Contents.Values[statements[1].Names[0]]);
        Assert.Equal("b", group.Contents.Values[statements[3].Names[0]]);
        Assert.All(statements, s => Assert.All(s.Names, name => Assert.Contains("@" + name, s.Sql, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(1, new[] { 1 })]
    [InlineData(13, new[] { 8, 4, 1 })]
    [InlineData(64, new[] { 32, 32 })]
    [InlineData(71, new[] { 32, 32, 4, 2, 1 })]
    public void Many_rows_go_as_few_statements_of_a_few_sizes(int rows, int[] sizes)
    {
        var batch = new SqlBatch();

        batch.AddRows(rows, "INSERT INTO audit_records (id)", i => $"({batch.Parameter($"r{i}", i)})", "ON CONFLICT DO NOTHING");

        var statements = batch.Contents.Sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(sizes, statements.Select(s => s.Split("(@", StringSplitOptions.None).Length - 1));
        Assert.All(statements, s => Assert.EndsWith("ON CONFLICT DO NOTHING", s, StringComparison.Ordinal));
        Assert.Equal(rows, batch.Contents.Values.Count);
    }
}

public sealed class RowsTests
{
    private static ColumnValues[] Columns(int rows) =>
    [
        ColumnValues.Of("id", Enumerable.Range(0, rows).Select(_ => Guid.CreateVersion7())),
        ColumnValues.Of("status", Enumerable.Range(0, rows).Select(i => i % 2 == 0 ? (int?)null : 200)),
        ColumnValues.Of("at", Enumerable.Range(0, rows).Select(i => new DateTimeOffset(2026, 12, 7, 1, 0, i % 60, TimeSpan.FromHours(2)))),
    ];

    [Fact]
    public void On_PostgreSQL_rows_are_one_statement_of_one_shape_whatever_their_number()
    {
        var (one, many) = (new SqlBatch(), new SqlBatch());
        one.Add("INSERT INTO t (id, status, at) " + PostgresDialect.Instance.Rows(one, Columns(1)));
        many.Add("INSERT INTO t (id, status, at) " + PostgresDialect.Instance.Rows(many, Columns(97)));

        Assert.Equal(one.Contents.Sql, many.Contents.Sql);
        Assert.Equal(3, many.Contents.Values.Count);
        // Npgsql writes timestamptz only from UTC values.
        var at = Assert.IsType<DateTimeOffset[]>(many.Contents.Values.Single(v => v.Key.EndsWith("at", StringComparison.Ordinal)).Value);
        Assert.All(at, t => Assert.Equal(TimeSpan.Zero, t.Offset));
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 23, 0, 0, TimeSpan.Zero), at[0]);
    }

    [Fact]
    public void On_SQLite_rows_are_a_values_list_with_a_parameter_per_value()
    {
        var batch = new SqlBatch();
        var rows = SqliteDialect.Instance.Rows(batch, Columns(2));

        Assert.StartsWith("VALUES (", rows, StringComparison.Ordinal);
        Assert.Equal(6, batch.Contents.Values.Count);
        Assert.Null(batch.Contents.Values.Single(v => v.Key.EndsWith("status0", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public void No_rows_is_refused_rather_than_sent_as_a_statement_the_database_rejects()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PostgresDialect.Instance.Rows(new SqlBatch(), Columns(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SqliteDialect.Instance.Rows(new SqlBatch(), Columns(0)));
    }
}
