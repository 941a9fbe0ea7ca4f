using FaceNetGen.Data;
using FaceNetGen.Evaluation;

namespace FaceNetGen.Tests.Evaluation;

public class EigenfacesTests
{
    private static readonly SyntheticFaces Faces = new(20, 3, seed: 5, size: 48);

    [Fact]
    public void Descriptions_are_unit_vectors_of_the_requested_size_and_deterministic()
    {
        var a = Eigenfaces.Fit(Faces, components: 12, size: 24, cropFraction: 1.0);
        var b = Eigenfaces.Fit(Faces, components: 12, size: 24, cropFraction: 1.0);
        var image = Faces.Render(3, 1, 48, 48);
        var da = a.Describe(image);
        Assert.Equal(12, da.Length);
        Assert.Equal(1.0, Math.Sqrt(da.Sum(v => (double)v * v)), 4);
        Assert.Equal(da, b.Describe(image));
        Assert.Equal(5, a.Truncate(5, whiten: false).Describe(image).Length);
    }

    [Fact]
    public void Faces_of_one_identity_are_closer_on_average_than_faces_of_others()
    {
        // A face's distance to another image of its identity is smaller, on average, than to
        // other identities' images, once described by the principal axes (synthetic faces differ by identity traits).
        var model = Eigenfaces.Fit(Faces, components: 16, size: 24, cropFraction: 1.0);
        var d = Enumerable.Range(0, 20).SelectMany(i => Enumerable.Range(0, 3).Select(j => (i, v: model.Describe(Faces.Render(i, j, 48, 48))))).ToList();
        double same = 0, diff = 0;
        int ns = 0, nd = 0;
        for (int x = 0; x < d.Count; x++)
        for (int y = x + 1; y < d.Count; y++)
        {
            double dist = FaceNetGen.Faces.EmbeddingDistance.Squared(d[x].v, d[y].v);
            if (d[x].i == d[y].i) { same += dist; ns++; }
            else { diff += dist; nd++; }
        }
        Assert.True(same / ns < diff / nd, $"mean same-identity distance {same / ns:F3}, different {diff / nd:F3}");
    }
}
