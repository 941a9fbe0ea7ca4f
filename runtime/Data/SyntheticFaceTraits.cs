using SkiaSharp;

namespace FaceNetGen.Data;

/// <summary>Hair styles of <see cref="SyntheticFaceTraits"/>.</summary>
internal enum HairStyle
{
    Bald,
    Buzz,
    Short,
    Fringe,
    SidePart,
    Long,
    Curly,
}

/// <summary>Facial hair of <see cref="SyntheticFaceTraits"/>.</summary>
internal enum BeardStyle
{
    None,
    Moustache,
    Goatee,
    Full,
    Stubble,
}

/// <summary>
/// What makes one synthetic person recognisable, drawn once per identity: the shape and size of the face, skin
/// tone, eyes, brows, nose, mouth, hair, and sometimes glasses, a beard or a mole. Lengths are fractions of the
/// picture's side, positions relative to the head's centre.
/// </summary>
internal sealed class SyntheticFaceTraits
{
    private static readonly SKColor[] SkinTones =
    [
        new(255, 224, 196), new(241, 194, 160), new(224, 172, 128), new(198, 140, 96),
        new(161, 110, 75), new(120, 80, 52), new(92, 60, 40),
    ];

    private static readonly SKColor[] IrisColours =
    [
        new(92, 56, 30), new(60, 36, 20), new(70, 110, 160), new(80, 130, 90), new(110, 120, 125), new(130, 100, 50), new(40, 30, 25),
    ];

    private static readonly SKColor[] HairColours =
    [
        new(20, 16, 14), new(50, 34, 24), new(95, 62, 36), new(140, 70, 35), new(200, 165, 100), new(150, 145, 140), new(225, 222, 215), new(175, 80, 40),
    ];

    public float HeadHalfWidth, HeadHalfHeight, JawWidth, ChinWidth;
    public SKColor Skin, Lips, Iris, Hair, Brow, GlassesFrame;
    public float EyeY, EyeSpacing, EyeWidth, EyeHeight, IrisSize, EyeTilt;
    public float BrowGap, BrowThickness, BrowAngle, BrowArch, BrowLength;
    public float NoseLength, NoseWidth, NoseY;
    public int NoseStyle;
    public float MouthY, MouthWidth, LipThickness, BaseSmile;
    public HairStyle HairStyle;
    public float Hairline, HairVolume, HairPart;
    public BeardStyle Beard;
    public bool Glasses, RoundGlasses;
    public float GlassesSize;
    public float EarSize;
    public bool HasMole;
    public float MoleX, MoleY;
    public float Blush;

    /// <summary>Draws the traits of one identity.</summary>
    public static SyntheticFaceTraits Draw(DeterministicRandom r)
    {
        var t = new SyntheticFaceTraits();
        t.HeadHalfWidth = r.NextFloat(0.25f, 0.31f);
        t.HeadHalfHeight = t.HeadHalfWidth * r.NextFloat(1.12f, 1.38f);
        t.JawWidth = r.NextFloat(0.55f, 0.95f);
        t.ChinWidth = r.NextFloat(0.15f, 0.45f);

        float tone = r.NextFloat(0, SkinTones.Length - 1);
        int k = Math.Min((int)tone, SkinTones.Length - 2);
        t.Skin = Tint(Lerp(SkinTones[k], SkinTones[k + 1], tone - k), r.NextFloat(-10, 10), r.NextFloat(-8, 8), r.NextFloat(-10, 6));
        t.Lips = Lerp(t.Skin, new SKColor(170, 60, 70), r.NextFloat(0.25f, 0.55f));
        t.Iris = Tint(IrisColours[r.Next(IrisColours.Length)], r.NextFloat(-12, 12), r.NextFloat(-12, 12), r.NextFloat(-12, 12));
        t.Hair = Tint(HairColours[r.Next(HairColours.Length)], r.NextFloat(-12, 12), r.NextFloat(-10, 10), r.NextFloat(-10, 10));
        t.Brow = r.NextDouble() < 0.75 ? Lerp(t.Hair, SKColors.Black, 0.3f) : Lerp(t.Skin, SKColors.Black, 0.65f);

        t.EyeY = t.HeadHalfHeight * r.NextFloat(-0.28f, -0.08f);
        t.EyeSpacing = t.HeadHalfWidth * r.NextFloat(0.36f, 0.52f);
        t.EyeWidth = t.HeadHalfWidth * r.NextFloat(0.18f, 0.27f);
        t.EyeHeight = t.EyeWidth * r.NextFloat(0.40f, 0.65f);
        t.IrisSize = r.NextFloat(0.36f, 0.52f);
        t.EyeTilt = r.NextFloat(-0.12f, 0.15f);

        t.BrowGap = t.EyeHeight * r.NextFloat(1.2f, 2.4f);
        t.BrowThickness = r.NextFloat(0.007f, 0.022f);
        t.BrowAngle = r.NextFloat(-0.18f, 0.22f);
        t.BrowArch = r.NextFloat(0.0f, 0.025f);
        t.BrowLength = t.EyeWidth * r.NextFloat(1.0f, 1.5f);

        t.NoseLength = t.HeadHalfHeight * r.NextFloat(0.25f, 0.42f);
        t.NoseWidth = t.HeadHalfWidth * r.NextFloat(0.14f, 0.28f);
        t.NoseY = t.EyeY + t.EyeHeight;
        t.NoseStyle = r.Next(3);

        t.MouthY = t.NoseY + t.NoseLength + (t.HeadHalfHeight * r.NextFloat(0.14f, 0.26f));
        t.MouthWidth = t.HeadHalfWidth * r.NextFloat(0.28f, 0.48f);
        t.LipThickness = r.NextFloat(0.006f, 0.02f);
        t.BaseSmile = r.NextFloat(-0.3f, 0.5f);

        t.HairStyle = (HairStyle)r.Next(7);
        t.Hairline = r.NextFloat(0.55f, 0.85f);
        t.HairVolume = r.NextFloat(1.04f, 1.16f);
        t.HairPart = r.NextFloat(-0.6f, 0.6f);

        double beard = r.NextDouble();
        t.Beard = beard switch
        {
            < 0.70 => BeardStyle.None,
            < 0.77 => BeardStyle.Moustache,
            < 0.84 => BeardStyle.Goatee,
            < 0.92 => BeardStyle.Full,
            _ => BeardStyle.Stubble,
        };

        t.Glasses = r.NextDouble() < 0.25;
        t.RoundGlasses = r.NextDouble() < 0.5;
        t.GlassesSize = r.NextFloat(1.4f, 1.9f);
        t.GlassesFrame = r.NextDouble() < 0.5 ? new SKColor(25, 25, 25) : SKColor.FromHsv(r.NextFloat(0, 360), r.NextFloat(20, 80), r.NextFloat(25, 75));

        t.EarSize = r.NextFloat(0.8f, 1.2f);
        t.HasMole = r.NextDouble() < 0.2;
        t.MoleX = r.NextFloat(-0.7f, 0.7f);
        t.MoleY = r.NextFloat(0.0f, 0.5f);
        t.Blush = r.NextDouble() < 0.3 ? r.NextFloat(0.05f, 0.2f) : 0;
        return t;
    }

    internal static SKColor Lerp(SKColor a, SKColor b, float t) => new(
        (byte)Math.Clamp(a.Red + ((b.Red - a.Red) * t), 0, 255),
        (byte)Math.Clamp(a.Green + ((b.Green - a.Green) * t), 0, 255),
        (byte)Math.Clamp(a.Blue + ((b.Blue - a.Blue) * t), 0, 255),
        255);

    internal static SKColor Tint(SKColor c, float dr, float dg, float db) => new(
        (byte)Math.Clamp(c.Red + dr, 0, 255),
        (byte)Math.Clamp(c.Green + dg, 0, 255),
        (byte)Math.Clamp(c.Blue + db, 0, 255),
        255);
}

/// <summary>
/// What changes from one picture of a person to the next: pose (shift, roll, scale, a little yaw), expression,
/// background, clothing, lighting, blur, noise and occasional occlusion.
/// </summary>
internal sealed class SyntheticFaceNuisance
{
    public float ShiftX, ShiftY, Roll, Scale, Yaw;
    public float Smile, MouthOpen, BrowRaise, EyeOpen, GazeX, GazeY;
    public SKColor Background, Background2, Shirt;
    public int BackgroundKind;
    public ulong TextureSeed;
    public float LightAngle, LightStrength, Gain, CastR, CastG, CastB, Gamma, Noise, Blur;
    public bool Occlusion;
    public float OcclusionX, OcclusionY, OcclusionW, OcclusionH, OcclusionAngle;
    public SKColor OcclusionColour;
    public bool HairMessy;

    /// <summary>Draws the nuisances of one picture.</summary>
    public static SyntheticFaceNuisance Draw(DeterministicRandom r)
    {
        var n = new SyntheticFaceNuisance();
        n.ShiftX = r.NextFloat(-0.05f, 0.05f);
        n.ShiftY = r.NextFloat(-0.05f, 0.05f);
        n.Roll = r.NextFloat(-12, 12);
        n.Scale = r.NextFloat(0.88f, 1.12f);
        n.Yaw = r.NextFloat(-0.35f, 0.35f);

        n.Smile = r.NextFloat(-0.4f, 1.0f);
        n.MouthOpen = r.NextDouble() < 0.3 ? r.NextFloat(0.2f, 1.0f) : 0;
        n.BrowRaise = r.NextFloat(-0.008f, 0.018f);
        n.EyeOpen = r.NextDouble() < 0.07 ? r.NextFloat(0.05f, 0.25f) : r.NextFloat(0.6f, 1.1f);
        n.GazeX = r.NextFloat(-0.25f, 0.25f);
        n.GazeY = r.NextFloat(-0.15f, 0.15f);

        n.BackgroundKind = r.Next(4);
        n.Background = SKColor.FromHsv(r.NextFloat(0, 360), r.NextFloat(0, 70), r.NextFloat(15, 95));
        n.Background2 = SKColor.FromHsv(r.NextFloat(0, 360), r.NextFloat(0, 70), r.NextFloat(15, 95));
        n.Shirt = SKColor.FromHsv(r.NextFloat(0, 360), r.NextFloat(0, 80), r.NextFloat(10, 90));
        n.TextureSeed = r.NextUInt64();

        n.LightAngle = r.NextFloat(0, 360);
        n.LightStrength = r.NextFloat(0.0f, 0.55f);
        n.Gain = r.NextFloat(0.55f, 1.35f);
        n.CastR = r.NextFloat(0.85f, 1.15f);
        n.CastG = r.NextFloat(0.9f, 1.1f);
        n.CastB = r.NextFloat(0.85f, 1.15f);
        n.Gamma = r.NextFloat(0.75f, 1.35f);
        n.Noise = r.NextFloat(0, 9);
        n.Blur = r.NextDouble() < 0.3 ? r.NextFloat(0.3f, 1.4f) : 0;

        n.Occlusion = r.NextDouble() < 0.15;
        n.OcclusionX = r.NextFloat(0.2f, 0.8f);
        n.OcclusionY = r.NextFloat(0.3f, 0.9f);
        n.OcclusionW = r.NextFloat(0.1f, 0.3f);
        n.OcclusionH = r.NextFloat(0.08f, 0.25f);
        n.OcclusionAngle = r.NextFloat(-40, 40);
        n.OcclusionColour = SKColor.FromHsv(r.NextFloat(0, 360), r.NextFloat(10, 80), r.NextFloat(20, 90));
        n.HairMessy = r.NextDouble() < 0.3;
        return n;
    }
}
