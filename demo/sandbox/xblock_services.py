"""An XBlock user service that, like the LMS's, identifies the signed-in Django user."""
from crum import get_current_user
from xblock.reference.user_service import UserService, XBlockUser


class SessionUserService(UserService):
    def get_current_user(self):
        user = get_current_user()
        if user is None or not user.is_authenticated:
            return XBlockUser(is_current_user=True)
        xblock_user = XBlockUser(is_current_user=True, emails=[user.email], full_name=user.get_full_name())
        xblock_user.opt_attrs.update({
            "edx-platform.user_id": user.pk,
            "edx-platform.username": user.username,
            "edx-platform.user_is_staff": user.is_staff,
        })
        return xblock_user
