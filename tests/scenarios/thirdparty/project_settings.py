
import sys
from pathlib import Path
_here = Path(__file__).resolve().parent
sys.path.insert(0, str(_here.parent / (_here.name + "_external")))
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "vendorapp", "blog", "django_remake"]
