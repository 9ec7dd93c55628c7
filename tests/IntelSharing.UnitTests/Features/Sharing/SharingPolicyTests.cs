using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;

namespace IntelSharing.UnitTests.Features.Sharing;

public sealed class SharingPolicyTests
{
    public enum Caller
    {
        Originator,
        InAudience,
        Outsider,
    }

    public enum AudienceShape
    {
        None,
        Named,
    }

    private static readonly Guid OriginatorId = Guid.CreateVersion7();
    private static readonly Guid CallerId = Guid.CreateVersion7();

    /// <summary>PRODUCT.md "Who may see what", written out case by case rather than re-derived.</summary>
    public static TheoryData<Tlp, AudienceShape, Caller, bool> Table => new()
    {
        { Tlp.Clear, AudienceShape.None, Caller.Originator, true },
        { Tlp.Clear, AudienceShape.None, Caller.Outsider, true },
        { Tlp.Clear, AudienceShape.Named, Caller.Originator, true },
        { Tlp.Clear, AudienceShape.Named, Caller.InAudience, true },
        { Tlp.Clear, AudienceShape.Named, Caller.Outsider, true },
        { Tlp.Green, AudienceShape.None, Caller.Originator, true },
        { Tlp.Green, AudienceShape.None, Caller.Outsider, true },
        { Tlp.Green, AudienceShape.Named, Caller.Originator, true },
        { Tlp.Green, AudienceShape.Named, Caller.InAudience, true },
        { Tlp.Green, AudienceShape.Named, Caller.Outsider, true },
        { Tlp.Amber, AudienceShape.None, Caller.Originator, true },
        { Tlp.Amber, AudienceShape.None, Caller.Outsider, true },
        { Tlp.Amber, AudienceShape.Named, Caller.Originator, true },
        { Tlp.Amber, AudienceShape.Named, Caller.InAudience, true },
        { Tlp.Amber, AudienceShape.Named, Caller.Outsider, false },
        { Tlp.AmberStrict, AudienceShape.None, Caller.Originator, true },
        { Tlp.AmberStrict, AudienceShape.None, Caller.Outsider, false },
        { Tlp.AmberStrict, AudienceShape.Named, Caller.Originator, true },
        { Tlp.AmberStrict, AudienceShape.Named, Caller.InAudience, true },
        { Tlp.AmberStrict, AudienceShape.Named, Caller.Outsider, false },
        { Tlp.Red, AudienceShape.None, Caller.Originator, true },
        { Tlp.Red, AudienceShape.None, Caller.Outsider, false },
        { Tlp.Red, AudienceShape.Named, Caller.Originator, true },
        { Tlp.Red, AudienceShape.Named, Caller.InAudience, true },
        { Tlp.Red, AudienceShape.Named, Caller.Outsider, false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void May_see_follows_the_tlp_rules_for_every_marking_audience_and_caller(Tlp tlp, AudienceShape audience, Caller caller, bool expected)
    {
        var agencyId = caller == Caller.Originator ? OriginatorId : CallerId;
        var access = new AlertAccess(OriginatorId, tlp, audience == AudienceShape.Named, caller == Caller.InAudience, AgencyActive: true);

        Assert.Equal(expected, SharingPolicy.MaySee(agencyId, access));
    }

    [Fact]
    public void The_table_covers_every_marking_with_every_audience_shape_and_caller()
    {
        var covered = Table.Select(row => ((Tlp)row.Data.Item1, (AudienceShape)row.Data.Item2, (Caller)row.Data.Item3)).ToHashSet();

        foreach (var tlp in Enum.GetValues<Tlp>())
        {
            Assert.Contains((tlp, AudienceShape.None, Caller.Originator), covered);
            Assert.Contains((tlp, AudienceShape.None, Caller.Outsider), covered);
            Assert.Contains((tlp, AudienceShape.Named, Caller.Originator), covered);
            Assert.Contains((tlp, AudienceShape.Named, Caller.InAudience), covered);
            Assert.Contains((tlp, AudienceShape.Named, Caller.Outsider), covered);
        }
    }

    [Fact]
    public void The_originator_sees_its_own_red_alert_even_when_it_left_itself_out_of_the_audience() =>
        Assert.True(SharingPolicy.MaySee(OriginatorId, new AlertAccess(OriginatorId, Tlp.Red, HasAudience: true, AgencyInAudience: false, AgencyActive: true)));
}
