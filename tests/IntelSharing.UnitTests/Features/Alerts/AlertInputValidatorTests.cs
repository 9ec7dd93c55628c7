using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.UnitTests.Features.Alerts;

public sealed class AlertInputValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 5, 21, 30, 0, TimeSpan.Zero);
    private readonly AlertInputValidator _validator = new(new FakeTimeProvider(Now));

    private static AlertInput Smuggling() => new()
    {
        Category = AlertCategory.MigrantSmuggling,
        Title = "Group of about 40 expected at Horgoš–Röszke tonight",
        Summary = "A network moves about 40 people from Preševo towards Subotica in a refrigerated truck.",
        Severity = Severity.High,
        Tlp = Tlp.Amber,
        Handling = new Handling { Code = HandlingCode.H1 },
        Evaluation = new Evaluation { Source = SourceReliability.B, Information = InformationAssessment.KnownPersonallyToSource },
        Basis = Basis.Assessment,
        Countries = ["RS", "HU", "MK"],
        Smuggling = new SmugglingDetails
        {
            Route = [new RoutePoint { Place = "Preševo", Country = "RS" }, new RoutePoint { Place = "Subotica", Country = "RS" }],
            CrossingPoints = [new CrossingPoint { Name = "Horgoš–Röszke", Countries = ["RS", "HU"] }],
            ModusOperandi = "Concealment in a refrigerated truck with forged CMR documents",
            EstimatedPeople = 40,
            NetworkNames = ["Kurdish route"],
        },
        Indicators = [new IndicatorInput { Type = IndicatorType.Phone, Value = "+381 64 123 4567" }],
    };

    private static AlertInput Cyber() => new()
    {
        Category = AlertCategory.CyberIncident,
        Title = "Phishing campaign impersonating the eUprava login",
        Summary = "Spoofed e-mails lead to a credential-harvesting page.",
        Severity = Severity.Medium,
        Tlp = Tlp.Green,
        Handling = new Handling { Code = HandlingCode.H0 },
        Evaluation = new Evaluation { Source = SourceReliability.A, Information = InformationAssessment.AccuracyNotInDoubt },
        Basis = Basis.Fact,
        Countries = ["RS", "BA"],
        Cyber = new CyberDetails
        {
            IncidentType = CyberIncidentType.Phishing,
            Sector = Sector.Government,
            AttackTechniques = ["T1566", "T1566.002"],
            Cves = ["CVE-2024-3400"],
        },
    };

    private static Person Suspect() => new() { FullName = "Marko Petrović", Category = DataSubjectCategory.Suspect, Nationality = "RS" };

    /// <summary>The failures as the client sees them: JSON field name → messages.</summary>
    private Dictionary<string, string[]> Errors(AlertInput input) =>
        _validator.Validate(input).Errors
            .GroupBy(e => FieldNames.ToJsonPath(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray());

    private void AssertOnlyField(AlertInput input, string field, string? messagePart = null)
    {
        var errors = Errors(input);
        Assert.Equal([field], errors.Keys);
        if (messagePart is not null)
        {
            Assert.Contains(errors[field], m => m.Contains(messagePart, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_sample_smuggling_and_cyber_alerts_are_valid()
    {
        Assert.Empty(Errors(Smuggling()));
        Assert.Empty(Errors(Cyber()));
    }

    [Fact]
    public void An_empty_alert_names_every_required_field()
    {
        var errors = Errors(new AlertInput());

        Assert.Equal(
            ["basis", "category", "countries", "evaluation", "handling", "severity", "summary", "title", "tlp"],
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("migrant_smuggling or cyber_incident", errors["category"][0], StringComparison.Ordinal);
        Assert.Contains("amber+strict", errors["tlp"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Default_messages_name_fields_as_clients_spell_them()
    {
        var errors = Errors(new AlertInput());

        Assert.Equal("'title' must not be empty.", errors["title"][0]);
        Assert.Equal("'summary' must not be empty.", errors["summary"][0]);
    }

    [Fact]
    public void Handling_and_evaluation_without_their_parts_name_the_parts() =>
        Assert.Equal(
            ["evaluation.information", "evaluation.source", "handling.code"],
            Errors(Smuggling() with { Handling = new Handling(), Evaluation = new Evaluation() }).Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void Handling_code_H3_requires_the_conditions_as_text()
    {
        AssertOnlyField(Smuggling() with { Handling = new Handling { Code = HandlingCode.H3 } }, "handling.conditions", "H3");
        AssertOnlyField(Smuggling() with { Handling = new Handling { Code = HandlingCode.H3, Conditions = "  " } }, "handling.conditions");
        Assert.Empty(Errors(Smuggling() with { Handling = new Handling { Code = HandlingCode.H3, Conditions = "Not to be shared with the Frontex liaison office." } }));
    }

    [Theory]
    [InlineData(Tlp.Clear)]
    [InlineData(Tlp.Green)]
    public void Persons_on_a_clear_or_green_alert_are_refused_on_the_tlp(Tlp tlp) =>
        AssertOnlyField(
            Cyber() with { Tlp = tlp, Persons = [Suspect()], ReviewAt = Now.AddMonths(3), ExpiresAt = Now.AddYears(1) },
            "tlp", "amber or stricter");

    [Theory]
    [InlineData(Tlp.Amber)]
    [InlineData(Tlp.AmberStrict)]
    [InlineData(Tlp.Red)]
    public void Persons_on_an_amber_or_stricter_alert_with_review_and_expiry_are_accepted(Tlp tlp)
    {
        var alert = Smuggling() with
        {
            Tlp = tlp,
            Audience = tlp == Tlp.Amber ? null : new AudienceInput { Agencies = [Guid.CreateVersion7()] },
            Persons = [Suspect()],
            ReviewAt = Now.AddMonths(3),
            ExpiresAt = Now.AddYears(1),
        };

        Assert.Empty(Errors(alert));
    }

    [Fact]
    public void Persons_without_review_and_expiry_dates_name_both_fields() =>
        Assert.Equal(["expiresAt", "reviewAt"], Errors(Smuggling() with { Persons = [Suspect()] }).Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void An_expiry_before_the_review_date_is_refused_on_expires_at() =>
        AssertOnlyField(
            Smuggling() with { Persons = [Suspect()], ReviewAt = Now.AddMonths(6), ExpiresAt = Now.AddMonths(3) },
            "expiresAt", "must not be before reviewAt");

    [Fact]
    public void Review_and_expiry_dates_in_the_past_are_refused()
    {
        AssertOnlyField(Smuggling() with { Persons = [Suspect()], ReviewAt = Now.AddDays(-1), ExpiresAt = Now.AddYears(1) }, "reviewAt", "future");
        Assert.Contains("expiresAt", Errors(Smuggling() with { Persons = [Suspect()], ReviewAt = Now.AddDays(-2), ExpiresAt = Now.AddDays(-1) }).Keys);
    }

    [Fact]
    public void Observed_at_may_be_a_little_ahead_for_clock_skew_but_not_in_the_future()
    {
        Assert.Empty(Errors(Smuggling() with { ObservedAt = Now.AddMinutes(4) }));
        AssertOnlyField(Smuggling() with { ObservedAt = Now.AddMinutes(6) }, "observedAt", "future");
    }

    [Fact]
    public void Invalid_person_details_are_named_by_position()
    {
        var errors = Errors(Smuggling() with
        {
            Persons = [Suspect(), new Person { FullName = "", Nationality = "srb", DateOfBirth = new DateOnly(2027, 1, 1) }],
            ReviewAt = Now.AddMonths(3),
            ExpiresAt = Now.AddYears(1),
        });

        Assert.Equal(
            ["persons[1].category", "persons[1].dateOfBirth", "persons[1].fullName", "persons[1].nationality"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_smuggling_alert_needs_the_smuggling_section_and_must_not_carry_a_cyber_one()
    {
        AssertOnlyField(Smuggling() with { Smuggling = null }, "smuggling", "'smuggling' section");
        AssertOnlyField(Smuggling() with { Cyber = Cyber().Cyber }, "cyber", "must not carry the 'cyber' section");
    }

    [Fact]
    public void A_cyber_alert_needs_the_cyber_section_and_must_not_carry_a_smuggling_one()
    {
        AssertOnlyField(Cyber() with { Cyber = null }, "cyber", "'cyber' section");
        AssertOnlyField(Cyber() with { Smuggling = Smuggling().Smuggling }, "smuggling", "must not carry the 'smuggling' section");
    }

    [Fact]
    public void A_smuggling_section_names_its_route_or_a_crossing_point_and_its_modus_operandi()
    {
        var section = Smuggling().Smuggling! with { Route = [], CrossingPoints = null, ModusOperandi = null };

        Assert.Equal(["smuggling.modusOperandi", "smuggling.route"], Errors(Smuggling() with { Smuggling = section }).Keys.Order(StringComparer.Ordinal));
        Assert.Empty(Errors(Smuggling() with { Smuggling = Smuggling().Smuggling! with { Route = null } }));
    }

    [Fact]
    public void Smuggling_details_are_checked_field_by_field()
    {
        var section = Smuggling().Smuggling! with
        {
            Route = [new RoutePoint { Place = "Preševo", Country = "rs" }],
            CrossingPoints = [new CrossingPoint { Name = "Horgoš–Röszke", Countries = ["RS", "HU", "RO"] }],
            EstimatedPeople = -1,
        };

        Assert.Equal(
            ["smuggling.crossingPoints[0].countries", "smuggling.estimatedPeople", "smuggling.route[0].country"],
            Errors(Smuggling() with { Smuggling = section }).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_crossing_point_without_countries_is_named_rather_than_failing()
    {
        var section = Smuggling().Smuggling! with { CrossingPoints = [new CrossingPoint { Name = "Horgoš–Röszke" }] };

        AssertOnlyField(Smuggling() with { Smuggling = section }, "smuggling.crossingPoints[0].countries");
    }

    [Theory]
    [InlineData("T1566")]
    [InlineData("T1566.001")]
    [InlineData("T1059.003")]
    public void Attack_technique_ids_and_sub_technique_ids_are_accepted(string id) =>
        Assert.Empty(Errors(Cyber() with { Cyber = Cyber().Cyber! with { AttackTechniques = [id] } }));

    [Theory]
    [InlineData("T15660")]
    [InlineData("T156")]
    [InlineData("t1566")]
    [InlineData("T1566.1")]
    [InlineData("T1566.0001")]
    [InlineData("TA0001")]
    [InlineData("T1566 ")]
    [InlineData("T١٥٦٦")]
    public void Malformed_attack_technique_ids_are_refused_by_position(string id) =>
        AssertOnlyField(Cyber() with { Cyber = Cyber().Cyber! with { AttackTechniques = ["T1566", id] } }, "cyber.attackTechniques[1]", "T1566.001");

    [Theory]
    [InlineData("CVE-2024-3400")]
    [InlineData("CVE-2021-44228")]
    [InlineData("CVE-1999-0001")]
    [InlineData("CVE-2024-1234567")]
    public void Cve_ids_are_accepted(string id) =>
        Assert.Empty(Errors(Cyber() with { Cyber = Cyber().Cyber! with { Cves = [id] } }));

    [Theory]
    [InlineData("cve-2024-3400")]
    [InlineData("CVE-24-3400")]
    [InlineData("CVE-2024-340")]
    [InlineData("CVE-2024-12345678")]
    [InlineData("2024-3400")]
    [InlineData("CVE-٢٠٢٤-3400")]
    public void Malformed_cve_ids_are_refused_by_position(string id) =>
        AssertOnlyField(Cyber() with { Cyber = Cyber().Cyber! with { Cves = [id] } }, "cyber.cves[0]", "CVE-2024-3400");

    [Fact]
    public void A_cyber_section_names_its_incident_type_and_sector() =>
        Assert.Equal(["cyber.incidentType", "cyber.sector"], Errors(Cyber() with { Cyber = new CyberDetails() }).Keys.Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("RS")]
    [InlineData("XK")]
    [InlineData("HU")]
    [InlineData("MK")]
    public void Upper_case_iso_country_codes_including_kosovo_are_accepted(string code) =>
        Assert.Empty(Errors(Smuggling() with { Countries = [code] }));

    [Theory]
    [InlineData("rs")]
    [InlineData("Rs")]
    [InlineData("YU")]
    [InlineData("SRB")]
    [InlineData("EU")]
    [InlineData("")]
    public void Other_country_codes_are_refused_by_position(string code) =>
        AssertOnlyField(Smuggling() with { Countries = ["RS", code] }, "countries[1]", "ISO 3166-1 alpha-2");

    [Fact]
    public void Countries_must_be_present_distinct_and_at_most_60()
    {
        AssertOnlyField(Smuggling() with { Countries = [] }, "countries", "At least one");
        AssertOnlyField(Smuggling() with { Countries = ["RS", "RS"] }, "countries", "repeat");
        var many = Countries.Count > 60 ? new[] { "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO" } : [];
        Assert.Equal(61, many.Length);
        AssertOnlyField(Smuggling() with { Countries = many }, "countries", "At most 60");
    }

    [Fact]
    public void Title_is_at_most_200_characters_without_control_characters()
    {
        Assert.Empty(Errors(Smuggling() with { Title = new string('T', AlertInputValidator.MaxTitle) }));
        AssertOnlyField(Smuggling() with { Title = new string('T', AlertInputValidator.MaxTitle + 1) }, "title", "200");
        AssertOnlyField(Smuggling() with { Title = "Group at Horgoš\u0007" }, "title", "control characters");
    }

    [Theory]
    [InlineData('\u202E', "202E")] // right-to-left override: "Horgoš" on screen, other text underneath
    [InlineData('\u202A', "202A")]
    [InlineData('\u2066', "2066")] // left-to-right isolate
    [InlineData('\u2069', "2069")]
    [InlineData('\u200B', "200B")] // zero-width space
    [InlineData('\u200E', "200E")] // left-to-right mark
    [InlineData('\u200F', "200F")]
    [InlineData('\u2060', "2060")] // word joiner
    [InlineData('\uFEFF', "FEFF")] // zero-width no-break space
    [InlineData('\u00AD', "00AD")] // soft hyphen
    public void Invisible_and_direction_changing_format_characters_are_refused_in_free_text_naming_the_field_and_the_character(char format, string codePoint)
    {
        var text = $"Group at Horgo{format}š";

        AssertOnlyField(Smuggling() with { Title = text }, "title", $"U+{codePoint} at position 14");
        AssertOnlyField(Smuggling() with { Summary = text }, "summary", $"U+{codePoint}");
        AssertOnlyField(Smuggling() with { Persons = [Suspect() with { FullName = text }], ReviewAt = Now.AddMonths(3), ExpiresAt = Now.AddYears(1) }, "persons[0].fullName", $"U+{codePoint}");
        AssertOnlyField(Smuggling() with { Indicators = [new IndicatorInput { Type = IndicatorType.Phone, Value = "+381 64 123 4567", Description = text }] }, "indicators[0].description", $"U+{codePoint}");
        AssertOnlyField(Smuggling() with { Smuggling = Smuggling().Smuggling! with { NetworkNames = [text] } }, "smuggling.networkNames[0]", $"U+{codePoint}");
    }

    [Fact]
    public void A_tag_character_outside_the_basic_plane_is_refused()
    {
        // U+E0041 TAG LATIN CAPITAL LETTER A: invisible text that some readers still pass on.
        AssertOnlyField(Smuggling() with { Title = "Horgoš\U000E0041" }, "title", "U+E0041 at position 6");
    }

    [Fact]
    public void Zero_width_joiner_and_non_joiner_stay_allowed_for_persian_names_indic_scripts_and_emoji()
    {
        // ZWNJ spells Persian and Pashto names correctly; ZWJ joins Indic conjuncts and emoji sequences. Neither reorders text.
        var persian = "محمد\u200Cرضا";
        var sinhala = "\u0DC1\u0DCA\u200D\u0DBB\u0DD3";
        Assert.Empty(Errors(Smuggling() with { Persons = [Suspect() with { FullName = persian, Aliases = [sinhala] }], ReviewAt = Now.AddMonths(3), ExpiresAt = Now.AddYears(1) }));
        Assert.Empty(Errors(Smuggling() with { Summary = "Family of four 👨\u200D👩\u200D👧\u200D👦 seen at Preševo.\nLine two." }));
    }

    [Fact]
    public void Summary_is_at_most_8000_characters()
    {
        Assert.Empty(Errors(Smuggling() with { Summary = new string('S', AlertInputValidator.MaxSummary) }));
        AssertOnlyField(Smuggling() with { Summary = new string('S', AlertInputValidator.MaxSummary + 1) }, "summary", "8000");
    }

    [Fact]
    public void An_alert_carries_at_most_500_indicators()
    {
        IndicatorInput[] Plates(int count) =>
            [.. Enumerable.Range(0, count).Select(i => new IndicatorInput { Type = IndicatorType.VehiclePlate, Value = $"SU {i:D4}-AB" })];

        Assert.Empty(Errors(Smuggling() with { Indicators = Plates(AlertInputValidator.MaxIndicators) }));
        AssertOnlyField(Smuggling() with { Indicators = Plates(AlertInputValidator.MaxIndicators + 1) }, "indicators", "At most 500");
    }

    [Fact]
    public void An_invalid_indicator_value_is_named_by_position_with_the_rule_for_its_type()
    {
        IndicatorInput[] indicators =
        [
            new() { Type = IndicatorType.Phone, Value = "+381 64 123 4567" },
            new() { Type = IndicatorType.Iban, Value = "RS35 2600 0560 1001 6113 78" },
            new() { Type = IndicatorType.VesselImo },
            new() { Value = "9074729" },
        ];

        var errors = Errors(Smuggling() with { Indicators = indicators });

        Assert.Equal(["indicators[1].value", "indicators[2].value", "indicators[3].type"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("check digits", errors["indicators[1].value"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Tlp.AmberStrict)]
    [InlineData(Tlp.Red)]
    public void Amber_strict_and_red_require_an_audience(Tlp tlp)
    {
        AssertOnlyField(Smuggling() with { Tlp = tlp }, "audience", "require the audience");
        AssertOnlyField(Smuggling() with { Tlp = tlp, Audience = new AudienceInput { Agencies = [] } }, "audience");
        Assert.Empty(Errors(Smuggling() with { Tlp = tlp, Audience = new AudienceInput { Agencies = [Guid.CreateVersion7()] } }));
    }

    [Fact]
    public void Amber_may_name_an_audience_or_go_to_all_partners()
    {
        Assert.Empty(Errors(Smuggling() with { Tlp = Tlp.Amber, Audience = null }));
        Assert.Empty(Errors(Smuggling() with { Tlp = Tlp.Amber, Audience = new AudienceInput { Agencies = [Guid.CreateVersion7()] } }));
    }

    [Theory]
    [InlineData(Tlp.Clear)]
    [InlineData(Tlp.Green)]
    public void Clear_and_green_alerts_must_not_name_an_audience(Tlp tlp) =>
        AssertOnlyField(Cyber() with { Tlp = tlp, Audience = new AudienceInput { Agencies = [Guid.CreateVersion7()] } }, "audience.agencies", "every partner");

    [Fact]
    public void An_audience_must_not_repeat_an_agency()
    {
        var agency = Guid.CreateVersion7();

        AssertOnlyField(Smuggling() with { Tlp = Tlp.Red, Audience = new AudienceInput { Agencies = [agency, agency] } }, "audience.agencies", "repeat");
    }
}
