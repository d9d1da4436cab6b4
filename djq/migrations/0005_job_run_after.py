from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("djq", "0002_job_state_indexes")]

    operations = [
        migrations.AddField(model_name="job", name="run_after", field=models.DateTimeField(null=True)),
    ]
