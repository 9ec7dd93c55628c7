using System.Text.RegularExpressions;
using FluentValidation;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Validation;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>The rules every submitted or updated alert obeys (PRODUCT.md). Shared by the submit and update slices.</summary>
public sealed partial class AlertInputValidator : AbstractValidator<AlertInput>
{
    public const int MaxTitle = 200;
    public const int MaxSummary = 8000;
    public const int MaxIndicators = 500;
    public const int MaxPersons = 200;
    public const int MaxCountries = 60;
    public const int MaxAudience = 500;
    public const int MaxAudienceGroups = 50;
    public const int MaxShortText = 200;
    public const int MaxLongText = 2000;
    public const int MaxPlaces = 50;
    public const int MaxIds = 100;
    public const int MaxAliases = 20;
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public AlertInputValidator(TimeProvider time)
    {
        RuleFor(a => a.Category).NotNull().WithMessage("A category is required: migrant_smuggling or cyber_incident.");
        RuleFor(a => a.Title).NotEmpty().MaximumLength(MaxTitle).SingleLineText();
        RuleFor(a => a.Summary).NotEmpty().MaximumLength(MaxSummary).MultiLineText();
        RuleFor(a => a.Severity).NotNull().WithMessage("A severity is required: low, medium, high or critical.");
        RuleFor(a => a.Tlp).NotNull().WithMessage("A TLP marking is required: clear, green, amber, amber+strict or red.");
        RuleFor(a => a.Basis).NotNull().WithMessage("A basis is required: fact or assessment.");

        RuleFor(a => a.Handling).NotNull().WithMessage("A handling code is required.");
        RuleFor(a => a.Handling!.Code).NotNull().When(a => a.Handling is not null).WithMessage("A handling code is required: H0, H1, H2 or H3.");
        RuleFor(a => a.Handling!.Conditions)
            .NotEmpty().When(a => a.Handling?.Code == HandlingCode.H3).WithMessage("Handling code H3 requires the conditions as text.")
            .MaximumLength(MaxLongText).When(a => a.Handling is not null);
        RuleFor(a => a.Handling!.Conditions).MultiLineText().When(a => a.Handling is not null);

        RuleFor(a => a.Evaluation).NotNull().WithMessage("A 4x4 evaluation is required.");
        RuleFor(a => a.Evaluation!.Source).NotNull().When(a => a.Evaluation is not null).WithMessage("The source evaluation is required: A, B, C or X.");
        RuleFor(a => a.Evaluation!.Information).NotNull().When(a => a.Evaluation is not null).WithMessage("The information evaluation is required: 1, 2, 3 or 4.");

        // Separate rules: a When() in a chain also guards the validators before it, which silently let a missing list through.
        // Every list: its length first, and its elements only when the length is within bounds (ListRules).
        RuleFor(a => a.Countries).NotEmpty().WithMessage("At least one country is required.");
        RuleFor(a => a.Countries).Cascade(CascadeMode.Stop).AtMost(MaxCountries, "countries").Unique("Countries");
        When(a => ListRules.IsWithin(a.Countries, MaxCountries), () =>
            RuleForEach(a => a.Countries).Must(Countries.IsValid).WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code (upper case, e.g. RS)."));

        RuleFor(a => a.Audience)
            .Must(audience => audience?.Agencies is { Count: > 0 } || audience?.Groups is { Count: > 0 }).When(a => a.Tlp is Tlp.AmberStrict or Tlp.Red)
            .OverridePropertyName("audience")
            .WithMessage("TLP amber+strict and red require the audience to name the agencies or sharing groups that may receive the alert.");
        RuleFor(a => a.Audience)
            .Must(audience => audience?.Agencies is null || audience.Agencies.Count == 0).When(a => a.Tlp is Tlp.Clear or Tlp.Green)
            .OverridePropertyName("audience.agencies")
            .WithMessage("TLP clear and green alerts go to every partner; an audience narrows only amber, amber+strict and red.");
        RuleFor(a => a.Audience)
            .Must(audience => audience?.Groups is null || audience.Groups.Count == 0).When(a => a.Tlp is Tlp.Clear or Tlp.Green)
            .OverridePropertyName("audience.groups")
            .WithMessage("TLP clear and green alerts go to every partner; an audience narrows only amber, amber+strict and red.");
        RuleFor(a => a.Audience!.Agencies).Cascade(CascadeMode.Stop).AtMost(MaxAudience, "agencies").Unique("Agencies")
            .When(a => a.Audience is not null);
        RuleFor(a => a.Audience!.Groups).Cascade(CascadeMode.Stop).AtMost(MaxAudienceGroups, "sharing groups").Unique("Sharing groups")
            .When(a => a.Audience is not null);

        // Category sections: exactly the one that matches the category.
        RuleFor(a => a.Smuggling).NotNull().When(a => a.Category == AlertCategory.MigrantSmuggling)
            .WithMessage("A migrant_smuggling alert carries the 'smuggling' section.");
        RuleFor(a => a.Smuggling).Null().When(a => a.Category == AlertCategory.CyberIncident)
            .WithMessage("A cyber_incident alert must not carry the 'smuggling' section.");
        RuleFor(a => a.Cyber).NotNull().When(a => a.Category == AlertCategory.CyberIncident)
            .WithMessage("A cyber_incident alert carries the 'cyber' section.");
        RuleFor(a => a.Cyber).Null().When(a => a.Category == AlertCategory.MigrantSmuggling)
            .WithMessage("A migrant_smuggling alert must not carry the 'cyber' section.");
        RuleFor(a => a.Smuggling!).SetValidator(new SmugglingValidator()).When(a => a.Smuggling is not null);
        RuleFor(a => a.Cyber!).SetValidator(new CyberValidator()).When(a => a.Cyber is not null);

        RuleFor(a => a.Indicators).AtMost(MaxIndicators, "indicators");
        When(a => ListRules.IsWithin(a.Indicators, MaxIndicators), () =>
            RuleForEach(a => a.Indicators).NotNull().SetValidator(new IndicatorValidator()));

        RuleFor(a => a.Persons).AtMost(MaxPersons, "persons");
        When(a => ListRules.IsWithin(a.Persons, MaxPersons), () =>
            RuleForEach(a => a.Persons).NotNull().SetValidator(new PersonValidator(time)));
        When(a => a.Persons is { Count: > 0 }, () =>
        {
            RuleFor(a => a.Tlp).Must(t => t is null || t.Value.IsAmberOrStricter())
                .WithMessage("An alert that names persons must be TLP amber or stricter.");
            RuleFor(a => a.ReviewAt).NotNull().WithMessage("An alert that names persons must carry reviewAt.");
            RuleFor(a => a.ExpiresAt).NotNull().WithMessage("An alert that names persons must carry expiresAt.");
        });

        RuleFor(a => a.ObservedAt).Must(t => t <= time.GetUtcNow() + ClockSkew).When(a => a.ObservedAt is not null)
            .WithMessage("observedAt must not be in the future.");
        RuleFor(a => a.ReviewAt).Must(t => t > time.GetUtcNow()).When(a => a.ReviewAt is not null)
            .WithMessage("reviewAt must be in the future.");
        RuleFor(a => a.ExpiresAt).Must(t => t > time.GetUtcNow()).When(a => a.ExpiresAt is not null)
            .WithMessage("expiresAt must be in the future.");
        RuleFor(a => a.ExpiresAt).Must((a, expires) => expires >= a.ReviewAt).When(a => a.ExpiresAt is not null && a.ReviewAt is not null)
            .WithMessage("expiresAt must not be before reviewAt.");
    }

    private sealed class SmugglingValidator : AbstractValidator<SmugglingDetails>
    {
        public SmugglingValidator()
        {
            RuleFor(s => s.ModusOperandi).NotEmpty().MaximumLength(MaxLongText).MultiLineText();
            RuleFor(s => s).Must(s => s.Route is { Count: > 0 } || s.CrossingPoints is { Count: > 0 })
                .WithName("route").OverridePropertyName("route")
                .WithMessage("A smuggling alert names its route or at least one crossing point.");
            RuleFor(s => s.Route).AtMost(MaxPlaces, "route points");
            When(s => ListRules.IsWithin(s.Route, MaxPlaces), () => RuleForEach(s => s.Route).NotNull().ChildRules(point =>
            {
                point.RuleFor(p => p.Place).NotEmpty().MaximumLength(MaxShortText).SingleLineText();
                point.RuleFor(p => p.Country).Must(Countries.IsValid).WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code.");
            }));
            RuleFor(s => s.CrossingPoints).AtMost(MaxPlaces, "crossing points");
            When(s => ListRules.IsWithin(s.CrossingPoints, MaxPlaces), () => RuleForEach(s => s.CrossingPoints).NotNull().ChildRules(point =>
            {
                point.RuleFor(p => p.Name).NotEmpty().MaximumLength(MaxShortText).SingleLineText();
                point.RuleFor(p => p.Countries).NotEmpty().Must(c => ListRules.IsWithin(c, 2)).WithMessage("A crossing point joins one or two countries.");
                point.When(p => ListRules.IsWithin(p.Countries, 2), () =>
                    point.RuleForEach(p => p.Countries).Must(Countries.IsValid).WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code."));
            }));
            RuleFor(s => s.EstimatedPeople).InclusiveBetween(0, 100_000);
            RuleFor(s => s.NetworkNames).AtMost(MaxPlaces, "network names");
            When(s => ListRules.IsWithin(s.NetworkNames, MaxPlaces), () =>
                RuleForEach(s => s.NetworkNames).NotEmpty().MaximumLength(MaxShortText).SingleLineText());
        }
    }

    private sealed partial class CyberValidator : AbstractValidator<CyberDetails>
    {
        public CyberValidator()
        {
            RuleFor(c => c.IncidentType).NotNull().WithMessage("An incident type is required.");
            RuleFor(c => c.Sector).NotNull().WithMessage("A sector is required.");
            RuleFor(c => c.AttackTechniques).AtMost(MaxIds, "techniques");
            When(c => ListRules.IsWithin(c.AttackTechniques, MaxIds), () => RuleForEach(c => c.AttackTechniques).Must(t => t is not null && AttackTechnique().IsMatch(t))
                .WithMessage("'{PropertyValue}' is not a MITRE ATT&CK technique id (T1566 or T1566.001)."));
            RuleFor(c => c.Cves).AtMost(MaxIds, "CVE ids");
            When(c => ListRules.IsWithin(c.Cves, MaxIds), () => RuleForEach(c => c.Cves).Must(t => t is not null && Cve().IsMatch(t))
                .WithMessage("'{PropertyValue}' is not a CVE id (CVE-2024-3400)."));
        }

        // [0-9], not \d: \d also matches other scripts' digits (T١٥٦٦), which no ATT&CK or CVE id contains.
        internal static bool IsAttackTechnique(string text) => AttackTechnique().IsMatch(text);

        internal static bool IsCve(string text) => Cve().IsMatch(text);

        [GeneratedRegex("^T[0-9]{4}(\\.[0-9]{3})?$")]
        private static partial Regex AttackTechnique();

        [GeneratedRegex("^CVE-(199[0-9]|2[0-9]{3})-[0-9]{4,7}$")]
        private static partial Regex Cve();
    }

    /// <summary>Whether the text is a MITRE ATT&amp;CK technique id as <c>cyber.attackTechniques</c> takes it.</summary>
    public static bool IsAttackTechnique(string text) => CyberValidator.IsAttackTechnique(text);

    /// <summary>Whether the text is a CVE id as <c>cyber.cves</c> takes it.</summary>
    public static bool IsCve(string text) => CyberValidator.IsCve(text);

    private static readonly IndicatorValidator OneIndicator = new();

    /// <summary>One indicator checked by the rules an alert's indicators are checked by (the TAXII import refuses each on its own).</summary>
    public static FluentValidation.Results.ValidationResult ValidateIndicator(IndicatorInput indicator) => OneIndicator.Validate(indicator);

    private sealed class IndicatorValidator : AbstractValidator<IndicatorInput>
    {
        public IndicatorValidator()
        {
            RuleFor(i => i.Type).NotNull().WithMessage("An indicator type is required.");
            RuleFor(i => i.Value).NotEmpty();
            RuleFor(i => i.Value).Custom((value, context) =>
            {
                var indicator = (IndicatorInput)context.InstanceToValidate;
                if (indicator.Type is { } type && !string.IsNullOrEmpty(value))
                {
                    var outcome = IndicatorRules.Normalise(type, value);
                    if (!outcome.IsValid)
                    {
                        context.AddFailure(outcome.Error!);
                    }
                }
            });
            RuleFor(i => i.Description).MaximumLength(MaxLongText).MultiLineText();
        }
    }

    private sealed class PersonValidator : AbstractValidator<Person>
    {
        public PersonValidator(TimeProvider time)
        {
            RuleFor(p => p.FullName).NotEmpty().MaximumLength(MaxShortText).SingleLineText();
            RuleFor(p => p.Category).NotNull().WithMessage("A data-subject category is required: suspect, convicted, victim, witness or contact.");
            RuleFor(p => p.DateOfBirth)
                .Must(d => d!.Value <= DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime) && d.Value.Year >= 1900)
                .When(p => p.DateOfBirth is not null).WithMessage("dateOfBirth must be between 1900 and today.");
            RuleFor(p => p.Nationality).Must(Countries.IsValid).When(p => p.Nationality is not null)
                .WithMessage("'{PropertyValue}' is not an ISO 3166-1 alpha-2 country code.");
            RuleFor(p => p.Aliases).AtMost(MaxAliases, "aliases");
            When(p => ListRules.IsWithin(p.Aliases, MaxAliases), () =>
                RuleForEach(p => p.Aliases).NotEmpty().MaximumLength(MaxShortText).SingleLineText());
        }
    }
}
