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
}
