from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("djq", "0004_read_indexes")]

    operations = [
        migrations.AddField(model_name="job", name="run_after", field=models.DateTimeField(null=True)),
    ]
