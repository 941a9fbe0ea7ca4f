using FaceNetGen.Imaging;
using SkiaSharp;

namespace FaceNetGen.Data;

/// <summary>
/// Draws one synthetic face with SkiaSharp. The drawing works in picture units (the picture's shorter side is 1),
/// the person's head centred near (0.5, 0.47) before the pose moves it; then lighting, colour cast, gamma, blur and
/// noise are applied. Only the given traits, nuisances and size decide the pixels.
/// </summary>
internal static class SyntheticFaceRenderer
{
    private const float HeadCentreY = 0.49f;

    public static Image Render(SyntheticFaceTraits t, SyntheticFaceNuisance n, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            float side = Math.Min(width, height);
            canvas.Clear(SKColors.Black);
            using var blur = n.Blur > 0 ? new SKPaint { ImageFilter = SKImageFilter.CreateBlur(n.Blur * side / 128, n.Blur * side / 128) } : null;
            if (blur is not null) canvas.SaveLayer(blur);

            canvas.Save();
            canvas.Translate((width - side) / 2, (height - side) / 2);
            canvas.Scale(side);
            DrawBackground(canvas, n);

            canvas.Save();
            canvas.Translate(0.5f + n.ShiftX, HeadCentreY + n.ShiftY);
            canvas.RotateDegrees(n.Roll);
            canvas.Scale(n.Scale);
            DrawPerson(canvas, t, n);
            canvas.Restore();

            if (n.Occlusion) DrawOcclusion(canvas, n);
            DrawLighting(canvas, n);
            canvas.Restore();
            if (blur is not null) canvas.Restore();
        }

        return Finish(bitmap, n);
    }

    private static SKPaint Fill(SKColor colour, byte alpha = 255) =>
        new() { Color = colour.WithAlpha(alpha), IsAntialias = true, Style = SKPaintStyle.Fill };

    private static SKPaint Stroke(SKColor colour, float width, byte alpha = 255) =>
        new() { Color = colour.WithAlpha(alpha), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = width, StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round };

    private static SKColor Darker(SKColor c, float amount) => SyntheticFaceTraits.Lerp(c, SKColors.Black, amount);

    private static SKColor Lighter(SKColor c, float amount) => SyntheticFaceTraits.Lerp(c, SKColors.White, amount);

    private static void DrawBackground(SKCanvas canvas, SyntheticFaceNuisance n)
    {
        var r = new DeterministicRandom(n.TextureSeed);
        var area = new SKRect(-1, -1, 2, 2);
        using (var paint = Fill(n.Background)) canvas.DrawRect(area, paint);
        switch (n.BackgroundKind)
        {
            case 1:
            {
                float angle = r.NextFloat(0, MathF.Tau);
                var d = new SKPoint(MathF.Cos(angle) * 0.7f, MathF.Sin(angle) * 0.7f);
                using var shader = SKShader.CreateLinearGradient(new SKPoint(0.5f - d.X, 0.5f - d.Y), new SKPoint(0.5f + d.X, 0.5f + d.Y), [n.Background, n.Background2], SKShaderTileMode.Clamp);
                using var paint = new SKPaint { Shader = shader, IsAntialias = true };
                canvas.DrawRect(area, paint);
                break;
            }

            case 2:
            {
                int blobs = r.Next(5, 14);
                for (int i = 0; i < blobs; i++)
                {
                    var colour = SyntheticFaceTraits.Lerp(n.Background, n.Background2, r.NextFloat(0, 1));
                    using var paint = Fill(colour, (byte)r.Next(60, 200));
                    canvas.DrawOval(r.NextFloat(-0.1f, 1.1f), r.NextFloat(-0.1f, 1.1f), r.NextFloat(0.05f, 0.3f), r.NextFloat(0.05f, 0.3f), paint);
                }

                break;
            }

            case 3:
            {
                int shapes = r.Next(2, 7);
                for (int i = 0; i < shapes; i++)
                {
                    var colour = SyntheticFaceTraits.Lerp(n.Background, n.Background2, r.NextFloat(0, 1));
                    using var paint = Fill(colour, (byte)r.Next(120, 256));
                    float x = r.NextFloat(-0.2f, 1f), y = r.NextFloat(-0.2f, 1f);
                    canvas.DrawRect(x, y, r.NextFloat(0.05f, 0.6f), r.NextFloat(0.05f, 1.2f), paint);
                }

                break;
            }

            default:
            {
                // A faint texture over a flat wall.
                int specks = r.Next(20, 60);
                for (int i = 0; i < specks; i++)
                {
                    using var paint = Fill(r.NextDouble() < 0.5 ? Lighter(n.Background, 0.3f) : Darker(n.Background, 0.3f), (byte)r.Next(20, 70));
                    canvas.DrawCircle(r.NextFloat(-0.1f, 1.1f), r.NextFloat(-0.1f, 1.1f), r.NextFloat(0.005f, 0.04f), paint);
                }

                break;
            }
        }
    }

    private static void DrawPerson(SKCanvas canvas, SyntheticFaceTraits t, SyntheticFaceNuisance n)
    {
        float a = t.HeadHalfWidth, b = t.HeadHalfHeight;
        float yaw = n.Yaw;
        float shift = yaw * a * 0.45f;

        // Shoulders and neck.
        using (var paint = Fill(n.Shirt)) canvas.DrawOval(0, b + 0.30f, 0.46f, 0.24f, paint);
        if (t.HairStyle == HairStyle.Long)
        {
            using var paint = Fill(Darker(t.Hair, 0.1f));
            canvas.DrawRoundRect(new SKRect(-a * 1.22f, -b * 0.95f, a * 1.22f, b * 1.15f), a * 0.8f, a * 0.8f, paint);
        }

        using (var paint = Fill(Darker(t.Skin, 0.18f))) canvas.DrawRect(-a * 0.42f, b * 0.3f, a * 0.84f, 0.35f, paint);

        // Ears: the one on the side the face turns towards shows less.
        for (int s = -1; s <= 1; s += 2)
        {
            float show = Math.Clamp(1 + (s * yaw * 1.2f), 0.4f, 1.4f);
            using var paint = Fill(Darker(t.Skin, 0.08f));
            canvas.DrawOval(s * a * (0.93f + (0.05f * show)), t.EyeY + 0.03f, 0.028f * t.EarSize * show, 0.055f * t.EarSize, paint);
        }

        using var head = HeadPath(t);
        using (var shader = SKShader.CreateRadialGradient(new SKPoint(shift, -b * 0.15f), a * 1.45f, [Lighter(t.Skin, 0.06f), Darker(t.Skin, 0.22f)], SKShaderTileMode.Clamp))
        using (var paint = new SKPaint { Shader = shader, IsAntialias = true })
        {
            canvas.DrawPath(head, paint);
        }

        canvas.Save();
        canvas.ClipPath(head, antialias: true);
        if (t.Blush > 0)
        {
            for (int s = -1; s <= 1; s += 2)
            {
                var centre = new SKPoint((s * t.EyeSpacing * 1.1f) + shift, t.NoseY + (t.NoseLength * 0.8f));
                using var shader = SKShader.CreateRadialGradient(centre, a * 0.35f, [new SKColor(220, 80, 90, (byte)(t.Blush * 255)), new SKColor(220, 80, 90, 0)], SKShaderTileMode.Clamp);
                using var paint = new SKPaint { Shader = shader, IsAntialias = true };
                canvas.DrawCircle(centre, a * 0.35f, paint);
            }
        }

        DrawBeard(canvas, t, shift);
        canvas.Restore();

        if (t.HasMole)
        {
            using var paint = Fill(Darker(t.Skin, 0.55f));
            canvas.DrawCircle((t.MoleX * a * 0.7f) + shift, t.NoseY + (t.MoleY * (b - t.NoseY) * 0.8f), 0.007f, paint);
        }

        for (int s = -1; s <= 1; s += 2)
        {
            DrawEye(canvas, t, n, s, shift);
            DrawBrow(canvas, t, n, s, shift);
        }

        DrawNose(canvas, t, shift * 1.6f);
        DrawMouth(canvas, t, n, shift * 1.25f);
        if (t.Beard == BeardStyle.Moustache)
        {
            using var paint = Fill(t.Hair, 235);
            float mx = shift * 1.25f, my = t.MouthY - (t.LipThickness * 1.2f) - 0.012f;
            using var pathBuilder = new SKPathBuilder();
            pathBuilder.MoveTo(mx - (t.MouthWidth * 1.1f), my + 0.016f);
            pathBuilder.QuadTo(mx, my - 0.03f, mx + (t.MouthWidth * 1.1f), my + 0.016f);
            pathBuilder.QuadTo(mx, my + 0.004f, mx - (t.MouthWidth * 1.1f), my + 0.016f);
            pathBuilder.Close();
            using var path = pathBuilder.Detach();
            canvas.DrawPath(path, paint);
        }

        DrawHair(canvas, t, n, shift * 0.5f);
        if (t.Glasses) DrawGlasses(canvas, t, shift);
    }

    private static SKPath HeadPath(SyntheticFaceTraits t)
    {
        float a = t.HeadHalfWidth, b = t.HeadHalfHeight, j = t.JawWidth, c = t.ChinWidth;
        using var pathBuilder = new SKPathBuilder();
        pathBuilder.MoveTo(0, -b);
        pathBuilder.CubicTo(a * 0.58f, -b, a, -b * 0.62f, a, -b * 0.12f);
        pathBuilder.CubicTo(a, b * 0.22f, a * (j + ((1 - j) * 0.7f)), b * 0.5f, a * j, b * 0.68f);
        pathBuilder.CubicTo(a * j * 0.75f, b * 0.9f, a * c, b, 0, b);
        pathBuilder.CubicTo(-a * c, b, -a * j * 0.75f, b * 0.9f, -a * j, b * 0.68f);
        pathBuilder.CubicTo(-a * (j + ((1 - j) * 0.7f)), b * 0.5f, -a, b * 0.22f, -a, -b * 0.12f);
        pathBuilder.CubicTo(-a, -b * 0.62f, -a * 0.58f, -b, 0, -b);
        pathBuilder.Close();
        var path = pathBuilder.Detach();
        return path;
    }

    private static void DrawBeard(SKCanvas canvas, SyntheticFaceTraits t, float shift)
    {
        float a = t.HeadHalfWidth, b = t.HeadHalfHeight;
        switch (t.Beard)
        {
            case BeardStyle.Full:
            case BeardStyle.Stubble:
            {
                // From ear to ear along the cheeks, over the upper lip, and everything below (the head clip trims it).
                byte alpha = t.Beard == BeardStyle.Full ? (byte)235 : (byte)80;
                using var paint = Fill(t.Hair, alpha);
                float ear = t.EyeY + 0.05f, lip = t.NoseY + t.NoseLength + 0.012f, cheek = t.MouthWidth * 1.35f;
                using var beardBuilder = new SKPathBuilder();
                beardBuilder.MoveTo(-a * 1.1f, ear);
                beardBuilder.CubicTo(-a * 0.9f, ear + 0.02f, -cheek - 0.02f + shift, lip - 0.02f, -cheek * 0.8f + shift, lip + 0.005f);
                beardBuilder.QuadTo(shift, lip - 0.012f, (cheek * 0.8f) + shift, lip + 0.005f);
                beardBuilder.CubicTo(cheek + 0.02f + shift, lip - 0.02f, a * 0.9f, ear + 0.02f, a * 1.1f, ear);
                beardBuilder.LineTo(a * 1.1f, b * 1.2f);
                beardBuilder.LineTo(-a * 1.1f, b * 1.2f);
                beardBuilder.Close();
                using var beard = beardBuilder.Detach();
                canvas.DrawPath(beard, paint);
                break;
            }

            case BeardStyle.Goatee:
            {
                using var paint = Fill(t.Hair, 235);
                float top = t.MouthY + t.LipThickness + 0.01f;
                canvas.DrawOval(shift, (top + b) / 2 + 0.01f, t.MouthWidth * 0.75f, ((b - top) / 2) + 0.015f, paint);
                break;
            }
        }
    }

    private static void DrawEye(SKCanvas canvas, SyntheticFaceTraits t, SyntheticFaceNuisance n, int side, float shift)
    {
        float w = t.EyeWidth * Math.Clamp(1 - (side * n.Yaw * 0.5f), 0.6f, 1.3f);
        float h = t.EyeHeight * n.EyeOpen;
        canvas.Save();
        canvas.Translate((side * t.EyeSpacing) + shift, t.EyeY);
        canvas.RotateRadians(-side * t.EyeTilt);
        var lash = Darker(t.Skin, 0.75f);
        if (n.EyeOpen < 0.3f)
        {
            using var closedBuilder = new SKPathBuilder();
            closedBuilder.MoveTo(-w, 0);
            closedBuilder.QuadTo(0, h * 2, w, 0);
            using var paint = Stroke(lash, 0.006f);
            using var closed = closedBuilder.Detach();
            canvas.DrawPath(closed, paint);
            canvas.Restore();
            return;
        }

        using var eyeBuilder = new SKPathBuilder();
        eyeBuilder.MoveTo(-w, 0);
        eyeBuilder.QuadTo(0, -h * 2, w, 0);
        eyeBuilder.QuadTo(0, h * 2, -w, 0);
        eyeBuilder.Close();
        using var eye = eyeBuilder.Detach();
        using (var paint = Fill(new SKColor(238, 234, 228))) canvas.DrawPath(eye, paint);
        canvas.Save();
        canvas.ClipPath(eye, antialias: true);
        float ir = t.IrisSize * w;
        float ix = n.GazeX * w * 0.45f, iy = n.GazeY * h;
        using (var paint = Fill(t.Iris)) canvas.DrawCircle(ix, iy, ir, paint);
        using (var paint = Fill(new SKColor(12, 10, 10))) canvas.DrawCircle(ix, iy, ir * 0.45f, paint);
        using (var paint = Fill(SKColors.White, 200)) canvas.DrawCircle(ix + (ir * 0.3f), iy - (ir * 0.3f), ir * 0.18f, paint);
        canvas.Restore();

        using var lidBuilder = new SKPathBuilder();
        lidBuilder.MoveTo(-w * 1.05f, h * 0.1f);
        lidBuilder.QuadTo(0, -h * 2.05f, w * 1.05f, -h * 0.05f);
        using var lid = lidBuilder.Detach();
        using (var paint = Stroke(lash, 0.0065f)) canvas.DrawPath(lid, paint);
        using (var paint = Stroke(Darker(t.Skin, 0.35f), 0.003f)) canvas.DrawPath(eye, paint);
        canvas.Restore();
    }

    private static void DrawBrow(SKCanvas canvas, SyntheticFaceTraits t, SyntheticFaceNuisance n, int side, float shift)
    {
        float cx = (side * t.EyeSpacing) + shift;
        float cy = t.EyeY - t.BrowGap - n.BrowRaise;
        float half = t.BrowLength * 0.55f * Math.Clamp(1 - (side * n.Yaw * 0.4f), 0.6f, 1.3f);
        float tilt = t.BrowAngle * t.BrowLength * 0.4f;
        using var pathBuilder = new SKPathBuilder();
        pathBuilder.MoveTo(cx - (side * half), cy + tilt);
        pathBuilder.QuadTo(cx, cy - t.BrowArch - 0.006f, cx + (side * half), cy - tilt + (t.BrowArch * 0.5f));
        using var paint = Stroke(t.Brow, t.BrowThickness);
        using var path = pathBuilder.Detach();
        canvas.DrawPath(path, paint);
    }

    private static void DrawNose(SKCanvas canvas, SyntheticFaceTraits t, float nx)
    {
        float top = t.NoseY, tip = t.NoseY + t.NoseLength, w = t.NoseWidth;
        var shade = Darker(t.Skin, 0.45f);
        using var pathBuilder = new SKPathBuilder();
        switch (t.NoseStyle)
        {
            case 0:
                pathBuilder.MoveTo(nx + (w * 0.2f), top);
                pathBuilder.QuadTo(nx + (w * 0.55f), tip - (t.NoseLength * 0.3f), nx + (w * 0.45f), tip - 0.004f);
                break;
            case 1:
                pathBuilder.MoveTo(nx - w, tip - 0.012f);
                pathBuilder.CubicTo(nx - (w * 0.9f), tip + 0.012f, nx + (w * 0.9f), tip + 0.012f, nx + w, tip - 0.012f);
                break;
            default:
                pathBuilder.MoveTo(nx - (w * 0.25f), top + (t.NoseLength * 0.2f));
                pathBuilder.LineTo(nx - (w * 0.35f), tip - (t.NoseLength * 0.2f));
                pathBuilder.MoveTo(nx + (w * 0.25f), top + (t.NoseLength * 0.2f));
                pathBuilder.LineTo(nx + (w * 0.35f), tip - (t.NoseLength * 0.2f));
                break;
        }

        using var path = pathBuilder.Detach();
        using (var paint = Stroke(shade, 0.004f, 170)) canvas.DrawPath(path, paint);
        using (var paint = Fill(Darker(t.Skin, 0.15f), 120)) canvas.DrawOval(nx, tip - 0.004f, w * 0.55f, w * 0.3f, paint);
        using (var paint = Fill(Darker(t.Skin, 0.6f)))
        {
            canvas.DrawOval(nx - (w * 0.42f), tip, w * 0.2f, w * 0.11f, paint);
            canvas.DrawOval(nx + (w * 0.42f), tip, w * 0.2f, w * 0.11f, paint);
        }
    }

    private static void DrawMouth(SKCanvas canvas, SyntheticFaceTraits t, SyntheticFaceNuisance n, float mx)
    {
        float w = t.MouthWidth * Math.Clamp(1 - (Math.Abs(n.Yaw) * 0.25f), 0.7f, 1);
        float my = t.MouthY;
        float smile = Math.Clamp((t.BaseSmile * 0.5f) + (n.Smile * 0.7f), -0.6f, 1.2f);
        float corner = my - (smile * 0.018f);
        float middle = my + (smile * 0.022f);
        float open = n.MouthOpen * 0.028f;
        float lip = t.LipThickness;

        using var upperBuilder = new SKPathBuilder();
        upperBuilder.MoveTo(mx - w, corner);
        upperBuilder.QuadTo(mx - (w * 0.45f), my - (lip * 1.6f), mx, my - (lip * 0.9f) + (smile * 0.004f));
        upperBuilder.QuadTo(mx + (w * 0.45f), my - (lip * 1.6f), mx + w, corner);
        upperBuilder.QuadTo(mx, middle, mx - w, corner);
        upperBuilder.Close();

        using var lowerBuilder = new SKPathBuilder();
        lowerBuilder.MoveTo(mx - w, corner);
        lowerBuilder.QuadTo(mx, middle + (open * 2), mx + w, corner);
        lowerBuilder.QuadTo(mx, middle + (open * 2) + (lip * 2.6f), mx - w, corner);
        lowerBuilder.Close();

        if (open > 0)
        {
            using var insideBuilder = new SKPathBuilder();
            insideBuilder.MoveTo(mx - w, corner);
            insideBuilder.QuadTo(mx, middle, mx + w, corner);
            insideBuilder.QuadTo(mx, middle + (open * 2), mx - w, corner);
            insideBuilder.Close();
            using var inside = insideBuilder.Detach();
            using (var paint = Fill(new SKColor(70, 20, 25))) canvas.DrawPath(inside, paint);
            canvas.Save();
            canvas.ClipPath(inside, antialias: true);
            using (var paint = Fill(new SKColor(235, 230, 220))) canvas.DrawRect(mx - w, middle - 0.05f, w * 2, 0.05f + (open * 0.6f), paint);
            canvas.Restore();
        }

        using var upper = upperBuilder.Detach();
        using (var paint = Fill(Darker(t.Lips, 0.12f))) canvas.DrawPath(upper, paint);
        using var lower = lowerBuilder.Detach();
        using (var paint = Fill(t.Lips)) canvas.DrawPath(lower, paint);
        using var lineBuilder = new SKPathBuilder();
        lineBuilder.MoveTo(mx - w, corner);
        lineBuilder.QuadTo(mx, middle, mx + w, corner);
        using var line = lineBuilder.Detach();
        using (var paint = Stroke(Darker(t.Lips, 0.55f), 0.003f)) canvas.DrawPath(line, paint);
    }

    private static void DrawHair(SKCanvas canvas, SyntheticFaceTraits t, SyntheticFaceNuisance n, float shift)
    {
        if (t.HairStyle == HairStyle.Bald)
        {
            // A fringe of hair around the back of the head, over the ears.
            using var paint = Stroke(t.Hair, 0.03f, 200);
            using var rimBuilder = new SKPathBuilder();
            rimBuilder.MoveTo(-t.HeadHalfWidth * 0.98f, t.EyeY + 0.02f);
            rimBuilder.QuadTo(-t.HeadHalfWidth * 1.02f, -t.HeadHalfHeight * 0.35f, -t.HeadHalfWidth * 0.85f, -t.HeadHalfHeight * 0.55f);
            rimBuilder.MoveTo(t.HeadHalfWidth * 0.98f, t.EyeY + 0.02f);
            rimBuilder.QuadTo(t.HeadHalfWidth * 1.02f, -t.HeadHalfHeight * 0.35f, t.HeadHalfWidth * 0.85f, -t.HeadHalfHeight * 0.55f);
            using var rim = rimBuilder.Detach();
            canvas.DrawPath(rim, paint);
            return;
        }

        float a = t.HeadHalfWidth, b = t.HeadHalfHeight;
        float volume = t.HairStyle == HairStyle.Buzz ? 1.015f : t.HairVolume;
        float oa = a * volume, ob = b * volume;
        float sideY = t.HairStyle == HairStyle.Long ? b * 0.55f : t.EyeY - 0.015f;
        float hairline = t.HairStyle == HairStyle.Fringe
            ? t.EyeY - t.BrowGap - 0.035f
            : -b * t.Hairline;
        float part = t.HairStyle == HairStyle.SidePart ? t.HairPart * a * 0.6f : 0;
        float inner = a * (t.HairStyle == HairStyle.Long ? 0.82f : 0.9f);

        using var pathBuilder = new SKPathBuilder();
        pathBuilder.MoveTo(-oa * 0.99f, sideY);
        pathBuilder.CubicTo(-oa * 1.03f, -ob * 0.62f, -oa * 0.6f, -ob * 1.02f, 0, -ob * 1.02f);
        pathBuilder.CubicTo(oa * 0.6f, -ob * 1.02f, oa * 1.03f, -ob * 0.62f, oa * 0.99f, sideY);
        pathBuilder.LineTo(inner, sideY);
        pathBuilder.CubicTo(inner, hairline * 0.55f, part + (a * 0.55f), hairline - (part * 0.15f), part + shift, hairline + (Math.Abs(part) * 0.2f));
        pathBuilder.CubicTo(part - (a * 0.55f), hairline + (part * 0.15f), -inner, hairline * 0.55f, -inner, sideY);
        pathBuilder.Close();

        byte alpha = t.HairStyle == HairStyle.Buzz ? (byte)170 : (byte)255;
        using var path = pathBuilder.Detach();
        using (var paint = Fill(t.Hair, alpha)) canvas.DrawPath(path, paint);

        if (t.HairStyle == HairStyle.Curly)
        {
            using var paint = Fill(Lighter(t.Hair, 0.08f));
            for (int i = 0; i <= 14; i++)
            {
                float angle = MathF.PI * (1 + (i / 14f));
                canvas.DrawCircle(MathF.Cos(angle) * oa * 1.0f, (MathF.Sin(angle) * ob * 1.0f) + 0.01f, a * 0.16f, paint);
            }
        }

        if (t.HairStyle == HairStyle.Fringe)
        {
            using var paint = Fill(t.Hair);
            for (int i = 0; i < 7; i++)
            {
                float x = -a * 0.75f + (i * a * 0.25f);
                using var lock1Builder = new SKPathBuilder();
                lock1Builder.MoveTo(x - (a * 0.14f), hairline - 0.02f);
                lock1Builder.LineTo(x + (a * 0.14f), hairline - 0.02f);
                lock1Builder.LineTo(x + (a * 0.02f), hairline + 0.018f);
                lock1Builder.Close();
                using var lock1 = lock1Builder.Detach();
                canvas.DrawPath(lock1, paint);
            }
        }

        if (n.HairMessy && t.HairStyle != HairStyle.Buzz)
        {
            var r = new DeterministicRandom(n.TextureSeed ^ 0x5DEECE66DUL);
            using var paint = Stroke(Lighter(t.Hair, 0.1f), 0.004f, 220);
            for (int i = 0; i < 8; i++)
            {
                float angle = MathF.PI * (1.1f + (0.8f * r.NextFloat(0, 1)));
                float x = MathF.Cos(angle) * oa, y = MathF.Sin(angle) * ob;
                canvas.DrawLine(x, y, x * r.NextFloat(1.05f, 1.2f), y * r.NextFloat(1.05f, 1.2f), paint);
            }
        }
    }

    private static void DrawGlasses(SKCanvas canvas, SyntheticFaceTraits t, float shift)
    {
        float rx = t.EyeWidth * t.GlassesSize * 0.75f, ry = rx * 0.78f;
        using var frame = Stroke(t.GlassesFrame, 0.007f);
        using var lens = Fill(new SKColor(200, 220, 235), 35);
        for (int s = -1; s <= 1; s += 2)
        {
            float cx = (s * t.EyeSpacing) + shift, cy = t.EyeY + 0.004f;
            var rect = new SKRect(cx - rx, cy - ry, cx + rx, cy + ry);
            float corner = t.RoundGlasses ? rx : rx * 0.3f;
            canvas.DrawRoundRect(rect, corner, t.RoundGlasses ? ry : corner, lens);
            canvas.DrawRoundRect(rect, corner, t.RoundGlasses ? ry : corner, frame);
            canvas.DrawLine(cx + (s * rx), cy - (ry * 0.3f), s * t.HeadHalfWidth * 0.98f, t.EyeY, frame);
        }

        canvas.DrawLine(-t.EyeSpacing + rx + shift, t.EyeY - (ry * 0.25f), t.EyeSpacing - rx + shift, t.EyeY - (ry * 0.25f), frame);
    }

    private static void DrawOcclusion(SKCanvas canvas, SyntheticFaceNuisance n)
    {
        canvas.Save();
        canvas.Translate(n.OcclusionX, n.OcclusionY);
        canvas.RotateDegrees(n.OcclusionAngle);
        using var shader = SKShader.CreateLinearGradient(new SKPoint(0, -n.OcclusionH), new SKPoint(0, n.OcclusionH), [Lighter(n.OcclusionColour, 0.2f), Darker(n.OcclusionColour, 0.3f)], SKShaderTileMode.Clamp);
        using var paint = new SKPaint { Shader = shader, IsAntialias = true };
        canvas.DrawRoundRect(new SKRect(-n.OcclusionW / 2, -n.OcclusionH / 2, n.OcclusionW / 2, n.OcclusionH / 2), n.OcclusionH * 0.3f, n.OcclusionH * 0.3f, paint);
        canvas.Restore();
    }

    private static void DrawLighting(SKCanvas canvas, SyntheticFaceNuisance n)
    {
        float angle = n.LightAngle * MathF.PI / 180;
        var d = new SKPoint(MathF.Cos(angle) * 0.6f, MathF.Sin(angle) * 0.6f);
        byte light = (byte)(n.LightStrength * 110);
        byte dark = (byte)(n.LightStrength * 230);
        using var shader = SKShader.CreateLinearGradient(
            new SKPoint(0.5f - d.X, 0.5f - d.Y), new SKPoint(0.5f + d.X, 0.5f + d.Y),
            [new SKColor(255, 250, 235, light), new SKColor(0, 0, 0, 0), new SKColor(0, 0, 10, dark)],
            SKShaderTileMode.Clamp);
        using var paint = new SKPaint { Shader = shader };
        canvas.DrawRect(new SKRect(-1, -1, 2, 2), paint);
    }

    /// <summary>Colour cast, brightness, gamma and sensor noise, applied to the rendered pixels.</summary>
    private static Image Finish(SKBitmap bitmap, SyntheticFaceNuisance n)
    {
        Span<byte> lut = stackalloc byte[3 * 256];
        float[] cast = [n.CastR, n.CastG, n.CastB];
        for (int c = 0; c < 3; c++)
        {
            for (int v = 0; v < 256; v++)
            {
                double x = Math.Pow(v / 255.0, n.Gamma) * n.Gain * cast[c];
                lut[(c * 256) + v] = (byte)Math.Clamp(Math.Round(x * 255), 0, 255);
            }
        }

        var image = new Image(bitmap.Width, bitmap.Height, 3);
        var src = bitmap.GetPixelSpan();
        var dst = image.Pixels;
        var r = new DeterministicRandom(n.TextureSeed ^ 0x9E3779B97F4A7C15UL);
        float sigma = n.Noise;
        for (int i = 0, j = 0; j < dst.Length; i += 4, j += 3)
        {
            for (int c = 0; c < 3; c++)
            {
                float v = lut[(c * 256) + src[i + c]];
                if (sigma > 0) v += (float)(r.NextNormal() * sigma);
                dst[j + c] = (byte)Math.Clamp(MathF.Round(v), 0, 255);
            }
        }

        return image;
    }
}
