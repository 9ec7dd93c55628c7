using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

/// <summary>Each kind of commit group's settings (docs/configuration.md, "CommitGroups"): its own default, then the shared section, then its own.</summary>
public sealed class CommitGroupOptionsTests
{
    private static (CommitGroupOptions Audit, CommitGroupOptions Submissions) Resolve(params (string Key, string Value)[] settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());
        CommitGroupOptions.Register<AuditRecord, bool, AuditRecordCommits>(services);
        CommitGroupOptions.Register<SubmitAlert.Submission, SubmitAlert.Stored, SubmitAlert.Commits>(services);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<CommitGroupOptions>>();
        return (options.Get(AuditRecordCommits.Name), options.Get(SubmitAlert.Commits.Name));
    }

    [Fact]
    public void Read_audit_records_commit_one_group_at_a_time_and_submissions_two_by_default()
    {
        var (audit, submissions) = Resolve();

        Assert.Equal((1, 64, TimeSpan.FromMilliseconds(1)), (audit.MaxConcurrent, audit.MaxSize, audit.Window));
        Assert.Equal((2, 64, TimeSpan.FromMilliseconds(1)), (submissions.MaxConcurrent, submissions.MaxSize, submissions.Window));
    }

    [Fact]
    public void The_shared_setting_overrides_each_kinds_default_and_a_kinds_own_setting_overrides_the_shared_one()
    {
        var (audit, submissions) = Resolve(("CommitGroups:MaxConcurrent", "4"), ("CommitGroups:Submissions:MaxConcurrent", "3"));

        Assert.Equal(4, audit.MaxConcurrent);
        Assert.Equal(3, submissions.MaxConcurrent);
    }

    [Fact]
    public void A_kinds_own_setting_overrides_its_default()
    {
        var (audit, submissions) = Resolve(("CommitGroups:AuditRecords:MaxConcurrent", "2"));

        Assert.Equal(2, audit.MaxConcurrent);
        Assert.Equal(2, submissions.MaxConcurrent);
    }
}
