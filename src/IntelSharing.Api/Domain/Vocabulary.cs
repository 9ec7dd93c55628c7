using System.Text.Json.Serialization;

namespace IntelSharing.Api.Domain;

// The product's vocabulary (PRODUCT.md). JSON names are snake_case unless the domain spells them otherwise.

public enum AlertCategory
{
    MigrantSmuggling,
    CyberIncident,
}

public enum Severity
{
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

/// <summary>Traffic Light Protocol 2.0 (FIRST).</summary>
public enum Tlp
{
    Clear,
    Green,
    Amber,
    [JsonStringEnumMemberName("amber+strict")]
    AmberStrict,
    Red,
}

/// <summary>Europol-style handling codes that travel with the alert.</summary>
public enum HandlingCode
{
    /// <summary>Use for the stated purpose only.</summary>
    [JsonStringEnumMemberName("H0")]
    H0,

    /// <summary>Not for judicial proceedings without the originator's consent.</summary>
    [JsonStringEnumMemberName("H1")]
    H1,

    /// <summary>Not to be passed on without the originator's consent.</summary>
    [JsonStringEnumMemberName("H2")]
    H2,

    /// <summary>Other conditions, given as text.</summary>
    [JsonStringEnumMemberName("H3")]
    H3,
}

/// <summary>4x4 evaluation: reliability of the source.</summary>
public enum SourceReliability
{
    [JsonStringEnumMemberName("A")]
    A,
    [JsonStringEnumMemberName("B")]
    B,
    [JsonStringEnumMemberName("C")]
    C,
    [JsonStringEnumMemberName("X")]
    X,
}

/// <summary>4x4 evaluation: assessment of the information.</summary>
public enum InformationAssessment
{
    [JsonStringEnumMemberName("1")]
    AccuracyNotInDoubt = 1,
    [JsonStringEnumMemberName("2")]
    KnownPersonallyToSource = 2,
    [JsonStringEnumMemberName("3")]
    CorroboratedByOtherInformation = 3,
    [JsonStringEnumMemberName("4")]
    NotCorroborated = 4,
}

/// <summary>Directive 2016/680 Art. 7: facts and assessments are told apart.</summary>
public enum Basis
{
    Fact,
    Assessment,
}

/// <summary>Directive 2016/680 Art. 6 categories of data subjects.</summary>
public enum DataSubjectCategory
{
    Suspect,
    Convicted,
    Victim,
    Witness,
    Contact,
}

public enum IndicatorType
{
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Sha256,
    Md5,
    Phone,
    VehiclePlate,
    VesselImo,
    TravelDocument,
    CryptoWallet,
    Iban,
}

public enum CyberIncidentType
{
    Phishing,
    Ransomware,
    Malware,
    Ddos,
    Intrusion,
    DataBreach,
    Fraud,
    DocumentForgery,
    Other,
}

/// <summary>Sectors as NIS2 (Directive 2022/2555) names them, plus the public sector's own.</summary>
public enum Sector
{
    Government,
    LawEnforcement,
    Energy,
    Transport,
    Banking,
    FinancialMarketInfrastructure,
    Health,
    DrinkingWater,
    DigitalInfrastructure,
    IctServiceManagement,
    Telecommunications,
    Space,
    Manufacturing,
    Education,
    Other,
}

public enum AgencyKind
{
    Ministry,
    Police,
    BorderGuard,
    Customs,
    Cert,
    EuAgency,
    Operator,
}

/// <summary>Who may see a sharing group and its members (docs/sharing.md, "Private sharing groups").</summary>
public enum SharingGroupVisibility
{
    /// <summary>Every agency sees the group and its members and may name it as an audience.</summary>
    Public,

    /// <summary>Only its members and operators see it; only its members may name it; to anyone else it does not exist.</summary>
    Private,
}

public enum AlertStatus
{
    Active,
    Revoked,
    Expired,
}

public static class TlpOrder
{
    /// <summary>Whether the marking restricts the audience at least as much as amber (required when persons are named).</summary>
    public static bool IsAmberOrStricter(this Tlp tlp) => tlp is Tlp.Amber or Tlp.AmberStrict or Tlp.Red;
}

/// <summary>A recipient's answer about an alert.</summary>
public enum FeedbackKind
{
    /// <summary>We received it.</summary>
    Received,

    /// <summary>We found it too: it matches our own information.</summary>
    Hit,

    /// <summary>We acted on it.</summary>
    Actioned,

    /// <summary>It turned out to be wrong.</summary>
    FalsePositive,
}
